//! The data crate on the real MNIST files.

mod common;

use lrsweep_data::{DatasetKind, Locator, Origin, SplitConfig, UserData, Values};

fn load() -> lrsweep_data::Dataset {
    let mut locator = Locator::new(DatasetKind::Mnist, Some(common::mnist_dir()));
    locator.mirrors.clear();
    lrsweep_data::load(&locator).expect("real MNIST loads")
}

#[test]
fn all_seventy_thousand_images_with_the_known_class_counts() {
    let data = load();
    assert_eq!(data.len(), 70_000);
    assert!(matches!(data.values(), Values::Pixels(p) if p.len() == 70_000 * 784));
    assert_eq!(data.item_shape, vec![28, 28]);
    assert_eq!(
        data.class_counts(),
        vec![6903, 7877, 6990, 7141, 6824, 6313, 6876, 7293, 6825, 6958]
    );
    assert!(data.files.iter().all(|f| f.origin == Origin::DataDir));
    // Train images come first: the first training label of MNIST is a 5, the first test label a 7.
    assert_eq!((data.labels()[0], data.labels()[60_000]), (5, 7));
}

#[test]
fn reference_split_sizes_proportions_and_seeds() {
    let data = load();
    let split = data.split(&SplitConfig::default()).unwrap();
    assert_eq!((split.train.len(), split.valid.len()), (59_500, 10_500));
    let all = data.class_counts();
    let (tr, va) = (split.train.class_counts(), split.valid.class_counts());
    for c in 0..10 {
        assert_eq!(tr[c] + va[c], all[c], "class {c} lost or duplicated");
        let exact = all[c] as f64 * 0.15;
        assert!(
            (va[c] as f64 - exact).abs() < 1.0,
            "class {c}: {} vs {exact}",
            va[c]
        );
    }
    // Pixels are scaled to 0..=1 and labels one-hot.
    let x = split.train.features_f32(0..2);
    assert_eq!(x.len(), 2 * 784);
    assert!(x.iter().all(|&p| (0.0..=1.0).contains(&p)) && x.contains(&1.0));
    let y = split.train.one_hot(0..2);
    assert_eq!(y.iter().sum::<f32>(), 2.0);
    assert_eq!(y[split.train.labels()[0] as usize], 1.0);

    let again = data.split(&SplitConfig::default()).unwrap();
    assert_eq!(again.train.labels(), split.train.labels());
    assert_eq!(
        again.valid.features_f32(0..100),
        split.valid.features_f32(0..100)
    );
    let other = data
        .split(&SplitConfig {
            seed: 7,
            ..Default::default()
        })
        .unwrap();
    assert_ne!(
        other.train.features_f32(0..100),
        split.train.features_f32(0..100)
    );
    assert_eq!(
        other.valid.class_counts(),
        va,
        "class shares do not depend on the seed"
    );
}

#[test]
fn stratified_subset_keeps_proportions() {
    let data = load();
    let split = data
        .split(&SplitConfig {
            limit: Some(3_000),
            ..Default::default()
        })
        .unwrap();
    assert_eq!((split.train.len(), split.valid.len()), (2_550, 450));
    let counts: Vec<usize> = split
        .train
        .class_counts()
        .iter()
        .zip(split.valid.class_counts())
        .map(|(t, v)| t + v)
        .collect();
    for (c, &n) in data.class_counts().iter().enumerate() {
        let exact = n as f64 * 3_000.0 / 70_000.0;
        assert!((counts[c] as f64 - exact).abs() < 1.0, "class {c}");
    }
}

#[test]
fn burn_dataset_trait_serves_items() {
    use burn_dataset::Dataset;
    let data = load();
    let split = data
        .split(&SplitConfig {
            limit: Some(100),
            ..Default::default()
        })
        .unwrap();
    let item = split.valid.get(0).unwrap();
    assert_eq!(item.image.len(), 784);
    assert_eq!(item.label, split.valid.labels()[0] as usize);
    assert_eq!(Dataset::len(&split.valid), 15);
    assert!(split.valid.get(15).is_err());
}

#[test]
fn a_wrong_file_in_the_data_dir_is_refused_by_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let src = common::mnist_dir();
    for f in DatasetKind::Mnist.files() {
        std::fs::copy(
            src.join(format!("{}.gz", f.name)),
            dir.path().join(format!("{}.gz", f.name)),
        )
        .unwrap();
    }
    // Swap in the test labels for the training labels: a valid IDX file, the wrong content.
    std::fs::copy(
        src.join("t10k-labels-idx1-ubyte.gz"),
        dir.path().join("train-labels-idx1-ubyte.gz"),
    )
    .unwrap();
    let e =
        lrsweep_data::load(&Locator::new(DatasetKind::Mnist, Some(dir.path().into()))).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("train-labels-idx1-ubyte.gz")
            && msg.contains("is mnist's t10k-labels-idx1-ubyte, a good file, but not mnist's train-labels-idx1-ubyte"),
        "{msg}"
    );

    // A damaged file (one label changed) is refused by its checksum.
    let mut raw =
        lrsweep_data::read_maybe_gzip(&src.join("train-labels-idx1-ubyte.gz"), 1 << 20).unwrap();
    raw[100] = (raw[100] + 1) % 10;
    std::fs::remove_file(dir.path().join("train-labels-idx1-ubyte.gz")).unwrap();
    std::fs::write(dir.path().join("train-labels-idx1-ubyte"), raw).unwrap();
    let e =
        lrsweep_data::load(&Locator::new(DatasetKind::Mnist, Some(dir.path().into()))).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("train-labels-idx1-ubyte") && msg.contains("SHA-256"),
        "{msg}"
    );
    std::fs::remove_file(dir.path().join("train-labels-idx1-ubyte")).unwrap();
    let e =
        lrsweep_data::load(&Locator::new(DatasetKind::Mnist, Some(dir.path().into()))).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("has no train-labels-idx1-ubyte") && msg.contains("--data-dir"),
        "{msg}"
    );
}

#[test]
fn the_mnist_directory_through_user_data_equals_the_catalogue() {
    let catalogue = load();
    let user = UserData {
        path: common::mnist_dir(),
        labels: None,
        label: None,
        image_size: None,
        columns: Default::default(),
        task: None,
    }
    .load(u64::MAX)
    .expect("the IDX directory reads as user data");
    assert_eq!(user.shape(), catalogue.shape());
    assert_eq!(user.item_shape, vec![28, 28]);
    assert_eq!(user.class_names, catalogue.class_names);
    assert_eq!(user.labels(), catalogue.labels());
    let (a, b) = (
        user.split(&SplitConfig::default()).unwrap(),
        catalogue.split(&SplitConfig::default()).unwrap(),
    );
    assert_eq!(a.scale, lrsweep_data::Scale::Unit);
    assert_eq!(a.train.labels(), b.train.labels());
    assert_eq!(a.valid.features_f32(0..500), b.valid.features_f32(0..500));
    let shas =
        |d: &lrsweep_data::Dataset| d.files.iter().map(|f| f.sha256.clone()).collect::<Vec<_>>();
    assert_eq!(
        shas(&user),
        shas(&catalogue),
        "the same files, the same checksums"
    );
}

#[test]
fn catalogue_files_are_read_only_up_to_their_length() {
    // The pinned lengths are the real files' lengths.
    let src = common::mnist_dir();
    for f in DatasetKind::Mnist.files() {
        let bytes =
            lrsweep_data::read_maybe_gzip(&src.join(format!("{}.gz", f.name)), f.read_limit())
                .unwrap();
        assert_eq!(bytes.len() as u64, f.len, "{}", f.name);
    }
    // A gzip bomb in place of the training images (256 MiB of zeros in about 256 KiB) is
    // refused at the bound, not inflated in full and then refused by its checksum.
    let dir = tempfile::tempdir().unwrap();
    for f in DatasetKind::Mnist.files() {
        std::fs::copy(
            src.join(format!("{}.gz", f.name)),
            dir.path().join(format!("{}.gz", f.name)),
        )
        .unwrap();
    }
    let bomb = dir.path().join("train-images-idx3-ubyte.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&bomb).unwrap(),
        flate2::Compression::best(),
    );
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..256 {
        std::io::Write::write_all(&mut enc, &zeros).unwrap();
    }
    enc.finish().unwrap();
    let e =
        lrsweep_data::load(&Locator::new(DatasetKind::Mnist, Some(dir.path().into()))).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("train-images-idx3-ubyte.gz")
            && msg.contains("more than 48088592 bytes")
            && msg.contains("gzip bomb"),
        "{msg}"
    );
}
