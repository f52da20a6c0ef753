use burn::tensor::{Device, Distribution, Tensor};
use std::time::Instant;
fn t(name: &str, n: usize, mut f: impl FnMut() -> Tensor<2>) {
    let _ = f().into_data();
    let s = Instant::now();
    let mut keep = vec![];
    for _ in 0..n {
        keep.push(f());
    }
    for k in keep {
        let _ = k.into_data();
    }
    println!(
        "{name}: {:.3} ms",
        s.elapsed().as_secs_f64() * 1e3 / n as f64
    );
}
fn main() {
    for (name, d) in [("flex", Device::flex())] {
        println!("== {name}");
        let x = Tensor::<2>::random([256, 784], Distribution::Default, &d);
        let w = Tensor::<2>::random([784, 784], Distribution::Default, &d);
        let g = Tensor::<2>::random([256, 784], Distribution::Default, &d);
        let xt = x.clone().transpose().into_data();
        let xt = Tensor::<2>::from_data(xt, &d);
        t("x@W", 50, || x.clone().matmul(w.clone()));
        t("(W^T@x^T)^T", 50, || {
            w.clone()
                .transpose()
                .matmul(x.clone().transpose())
                .transpose()
        });
        let wt = Tensor::<2>::from_data(w.clone().transpose().into_data(), &d);
        t("(wt_contig^T)", 50, || {
            x.clone().matmul(wt.clone().transpose())
        });
        t("x^T@g (view)", 50, || {
            x.clone().transpose().matmul(g.clone())
        });
        t("xt@g (contig)", 50, || xt.clone().matmul(g.clone()));
        t("g@W^T", 50, || g.clone().matmul(w.clone().transpose()));
        t("relu+mask", 50, || {
            g.clone().mask_fill(x.clone().lower_equal_elem(0.5), 0.0)
        });
        t("adam-like 12 ops on W", 20, || {
            let m = w.clone().mul_scalar(0.9).add(w.clone().mul_scalar(0.1));
            let v = w
                .clone()
                .mul_scalar(0.999)
                .add(w.clone().square().mul_scalar(0.001));
            m.div(v.sqrt().add_scalar(1e-7)).mul_scalar(0.001)
        });
    }
}
