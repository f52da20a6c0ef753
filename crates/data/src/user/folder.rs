//! An image folder: one subfolder per class (its name is the class's), PNG or JPEG images in
//! each (decoded with the `image` crate), all of one size or resized to `--image-size WxH`;
//! grayscale kept as one channel, colour as three (alpha dropped).

use std::path::{Path, PathBuf};

use image::imageops::FilterType;

use super::common::user_file;
use crate::catalogue::sha256_hex;
use crate::dataset::Dataset;
use crate::error::{DataError, Result};
use crate::values::{Label, Values};

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
}

fn is_image(path: &Path) -> bool {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    matches!(ext.as_str(), "png" | "jpg" | "jpeg")
}

fn entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| DataError::io("reading", dir, e))? {
        let path = entry.map_err(|e| DataError::io("reading", dir, e))?.path();
        if !is_hidden(&path) {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// An image of class `label` with its size on disk; anything but a PNG or JPEG is refused
/// (`fix` says what the folder should hold), and a FIFO or a device named *.png is refused
/// here, never opened (opening a FIFO waits for a writer).
fn image_file(path: PathBuf, label: Label, fix: &str) -> Result<(PathBuf, Label, u64)> {
    if path.is_dir() || !is_image(&path) {
        return Err(DataError::invalid(
            path.display(),
            format!("is not a PNG or JPEG image; {fix}"),
        ));
    }
    let stored = crate::bounded::regular_size(&path)?;
    Ok((path, label, stored))
}

/// The most bytes an image file of `w` × `h` pixels may hold: 8 bytes a pixel (16-bit RGBA,
/// uncompressed) and 1 MiB of metadata.
fn image_file_bound(w: u32, h: u32) -> u64 {
    (u64::from(w) * u64::from(h)).saturating_mul(8) + (1 << 20)
}

/// Reads the folder's images; `size` resizes each to width × height.
pub(super) fn read(root: &Path, size: Option<(u32, u32)>, memory: u64) -> Result<Dataset> {
    let mut classes = Vec::new();
    for path in entries(root)? {
        if path.is_dir() {
            classes.push(path);
        } else {
            return Err(DataError::invalid(
                path.display(),
                format!("{} must hold one subfolder per class (named after the class) and the images inside them; move this file into its class's folder", root.display()),
            ));
        }
    }
    if classes.is_empty() {
        return Err(DataError::invalid(
            root.display(),
            "is an empty folder: give it one subfolder of images per class (or name a data file)",
        ));
    }
    // Each image with its class and its size on disk (read once, from its metadata).
    let mut files: Vec<(PathBuf, Label, u64)> = Vec::new();
    for (c, dir) in classes.iter().enumerate() {
        let before = files.len();
        for path in entries(dir)? {
            files.push(image_file(
                path,
                c as Label,
                "a class folder holds only its images",
            )?);
        }
        if files.len() == before {
            return Err(DataError::invalid(
                dir.display(),
                "holds no images; every class folder needs at least one PNG or JPEG",
            ));
        }
    }
    let names: Vec<String> = classes
        .iter()
        .map(|d| {
            d.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        })
        .collect();
    let images = decode(root, &files, size, None, memory)?;
    let labels = files.iter().map(|&(_, c, _)| c).collect();
    let mut data = Dataset::new(
        Values::Pixels(images.pixels.into()),
        labels,
        images.item_shape,
        names,
        root.display().to_string(),
    )?;
    data.files = vec![images.file];
    Ok(data)
}

/// A folder's images decoded: their pixels, one image's shape, the folder's one file record.
struct Decoded {
    pixels: Vec<u8>,
    item_shape: Vec<usize>,
    file: crate::catalogue::VerifiedFile,
}

/// Reads a folder of images to score (`root`): images of one class folder each (labelled by
/// the folder's name), or images right in `root` (no labels); resized to `size`, in as many
/// channels as a network of `inputs` takes (gray or colour).
pub(super) fn read_unseen(
    root: &Path,
    size: Option<(u32, u32)>,
    inputs: usize,
    memory: u64,
) -> Result<super::common::Raw> {
    use super::common::{Raw, RawLabel};
    let entries = entries(root)?;
    let flat = entries.iter().all(|p| !p.is_dir());
    let mut files: Vec<(PathBuf, Label, u64)> = Vec::new();
    let mut names = Vec::new();
    let fix = "give a folder of images, or of class folders of images";
    for path in entries {
        match flat {
            true => files.push(image_file(path, 0, fix)?),
            false if path.is_dir() => {
                for image in self::entries(&path)? {
                    files.push(image_file(image, names.len() as Label, fix)?);
                }
                names.push(
                    path.file_name()
                        .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
                );
            }
            false => {
                return Err(DataError::invalid(
                    path.display(),
                    "stands beside class folders; a folder holds either images or class folders of images",
                ))
            }
        }
    }
    if files.is_empty() {
        return Err(DataError::invalid(root.display(), "holds no images"));
    }
    let images = decode(root, &files, size, Some(inputs), memory)?;
    let labels = (!flat).then(|| {
        files
            .iter()
            .map(|&(_, c, _)| RawLabel::Text(names[c as usize].clone()))
            .collect()
    });
    Ok(Raw {
        values: Values::Pixels(images.pixels.into()),
        item_shape: images.item_shape,
        labels,
        targets: None,
        files: vec![images.file],
        notes: Vec::new(),
    })
}

/// Decodes `files` (each with its size on disk) of the folder `root`: all of one size, or each
/// resized to `size`; gray (one channel) unless an image has colour, or as many channels as a
/// network of `inputs` takes.
fn decode(
    root: &Path,
    files: &[(PathBuf, Label, u64)],
    size: Option<(u32, u32)>,
    inputs: Option<usize>,
    memory: u64,
) -> Result<Decoded> {
    // Sizes from the headers first: a mismatch or a memory need is found before decoding.
    let mut dims = Vec::with_capacity(files.len());
    for (path, ..) in files {
        let d = image::image_dimensions(path).map_err(|e| {
            DataError::invalid(path.display(), format!("not a readable image ({e})"))
        })?;
        if size.is_none() {
            if let Some(&first) = dims.first() {
                let first_path = &files[0].0;
                if d != first {
                    return Err(DataError::invalid(
                        path.display(),
                        format!(
                            "is {}x{} but {} is {}x{}; give all images one size, or pass --image-size WxH to resize them",
                            d.0, d.1, first_path.display(), first.0, first.1
                        ),
                    ));
                }
            }
        }
        dims.push(d);
    }
    let (w, h) = size.unwrap_or(dims[0]);
    if w == 0 || h == 0 {
        return Err(DataError::invalid(
            root.display(),
            "--image-size must be at least 1x1",
        ));
    }
    let need = (files.len() as u64).saturating_mul(u64::from(w) * u64::from(h) * 3 * 2);
    if need > memory {
        return Err(DataError::too_large(
            root,
            format!("{} images of {w}x{h}", files.len()),
            need,
            memory,
        ));
    }
    let mut rgb = Vec::with_capacity(files.len() * (w * h * 3) as usize);
    let mut colour = false;
    let mut digest = Vec::with_capacity(files.len() * 64);
    for ((path, _, stored), &(iw, ih)) in files.iter().zip(&dims) {
        // An image file holds at most about its pixels' bytes (16-bit RGBA, uncompressed) and
        // some metadata: a file far larger is not that image, and is not read whole.
        let most = image_file_bound(iw, ih);
        if *stored > most {
            return Err(DataError::invalid(
                path.display(),
                format!(
                    "holds {stored} bytes, far more than a {iw}x{ih} image needs (at most {most}): it is padded or not an image file; remove it from the folder"
                ),
            ));
        }
        let bytes = crate::bounded::read(
            path,
            crate::bounded::Bound::Memory {
                bytes: most.min(memory),
                what: "an image of its size",
            },
        )?;
        digest.extend_from_slice(
            path.strip_prefix(root)
                .unwrap_or(path)
                .to_string_lossy()
                .as_bytes(),
        );
        digest.extend_from_slice(sha256_hex(&bytes).as_bytes());
        let img = image::load_from_memory(&bytes).map_err(|e| match e {
            // A decompression bomb, or a photograph far larger than a network's input.
            image::ImageError::Limits(_) => DataError::invalid(
                path.display(),
                format!("is {iw}x{ih} pixels, more than the image decoder's memory limit allows; shrink it (it is resized to the images' size anyway)"),
            ),
            e => DataError::invalid(path.display(), format!("not a readable image ({e})")),
        })?;
        colour |= img.color().has_color();
        let mut img = img.to_rgb8();
        if img.dimensions() != (w, h) {
            img = image::imageops::resize(&img, w, h, FilterType::Triangle);
        }
        rgb.extend_from_slice(img.as_raw());
    }
    // A network's input width says its channels: three for colour, one for gray.
    if let Some(inputs) = inputs {
        colour = inputs == (w * h * 3) as usize;
    }
    let (pixels, item_shape) = if colour {
        (rgb, vec![h as usize, w as usize, 3])
    } else {
        (
            rgb.chunks_exact(3)
                .map(|p| match inputs {
                    // Gray for a gray network: the luma of a colour image (as `image` does).
                    Some(_) => {
                        ((u32::from(p[0]) * 2126
                            + u32::from(p[1]) * 7152
                            + u32::from(p[2]) * 722
                            + 5000)
                            / 10000) as u8
                    }
                    None => p[0],
                })
                .collect(),
            vec![h as usize, w as usize],
        )
    };
    // One record for the folder: the SHA-256 over every image's relative path and checksum.
    let mut file = user_file(root, &digest);
    file.name = format!("{} ({} images)", file.name, files.len());
    Ok(Decoded {
        pixels,
        item_shape,
        file,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(path: &Path, w: u32, h: u32, shade: u8, colour: bool) {
        if colour {
            image::RgbImage::from_pixel(w, h, image::Rgb([shade, 0, 255 - shade]))
                .save(path)
                .unwrap();
        } else {
            image::GrayImage::from_pixel(w, h, image::Luma([shade]))
                .save(path)
                .unwrap();
        }
    }

    #[test]
    fn gray_and_colour_folders_sizes_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        for (class, shade) in [("cat", 10u8), ("dog", 200)] {
            std::fs::create_dir(dir.path().join(class)).unwrap();
            for i in 0..3 {
                png(
                    &dir.path().join(class).join(format!("{i}.png")),
                    4,
                    3,
                    shade,
                    false,
                );
            }
        }
        let d = read(dir.path(), None, 1 << 30).unwrap();
        assert_eq!(d.item_shape, vec![3, 4]);
        assert_eq!(d.class_names, vec!["cat", "dog"]);
        assert_eq!(d.labels(), &[0, 0, 0, 1, 1, 1]);
        png(&dir.path().join("dog").join("big.png"), 5, 5, 3, true);
        let err = read(dir.path(), None, 1 << 30).unwrap_err().to_string();
        assert!(
            err.contains("is 5x5 but") && err.contains("--image-size"),
            "{err}"
        );
        let d = read(dir.path(), Some((2, 2)), 1 << 30).unwrap();
        assert_eq!(
            d.item_shape,
            vec![2, 2, 3],
            "one colour image makes all RGB"
        );
        std::fs::write(dir.path().join("dog").join("notes.txt"), "x").unwrap();
        let err = read(dir.path(), Some((2, 2)), 1 << 30)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("notes.txt") && err.contains("not a PNG or JPEG"),
            "{err}"
        );
        let empty = tempfile::tempdir().unwrap();
        let err = read(empty.path(), None, 1 << 30).unwrap_err().to_string();
        assert!(err.contains("empty folder"), "{err}");
    }

    #[test]
    fn images_to_score_alone_or_in_one_class_folder_in_the_networks_channels() {
        let dir = tempfile::tempdir().unwrap();
        // A flat folder: no labels; a colour image for a gray network of 4x3 inputs as its luma.
        let flat = dir.path().join("flat");
        std::fs::create_dir(&flat).unwrap();
        png(&flat.join("a.png"), 4, 3, 200, false);
        png(&flat.join("b.png"), 4, 3, 100, true);
        let raw = read_unseen(&flat, None, 12, 1 << 30).unwrap();
        assert!(raw.labels.is_none());
        assert_eq!(raw.item_shape, vec![3, 4]);
        let crate::values::Values::Pixels(p) = &raw.values else {
            panic!("pixels")
        };
        assert_eq!(p[0], 200);
        // Rgb(100, 0, 155): 0.2126·100 + 0.0722·155 = 32.45.
        assert_eq!(p[12], 32);
        // The same images for a colour network: three channels each.
        let raw = read_unseen(&flat, None, 36, 1 << 30).unwrap();
        assert_eq!(raw.item_shape, vec![3, 4, 3]);
        // One class folder: labelled by its name (a data set would want two classes).
        let one = dir.path().join("one");
        std::fs::create_dir_all(one.join("cat")).unwrap();
        png(&one.join("cat").join("x.png"), 4, 3, 10, false);
        let raw = read_unseen(&one, None, 12, 1 << 30).unwrap();
        assert_eq!(raw.labels.unwrap()[0].name(), "cat");
        // A stray file beside class folders is refused.
        std::fs::write(one.join("notes.txt"), "x").unwrap();
        let e = read_unseen(&one, None, 12, 1 << 30)
            .unwrap_err()
            .to_string();
        assert!(e.contains("stands beside class folders"), "{e}");
    }

    #[test]
    fn a_fifo_or_a_padded_image_is_refused_without_waiting_or_reading_it_whole() {
        // Issue 37, classes 11 and 12.
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("cat")).unwrap();
        png(&dir.path().join("cat").join("0.png"), 8, 8, 10, false);
        let fifo = dir.path().join("cat").join("z.png");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let err = read(dir.path(), None, 1 << 30).unwrap_err().to_string();
            assert!(err.contains("z.png") && err.contains("FIFO"), "{err}");
            std::fs::remove_file(&fifo).unwrap();
        }
        // An 8x8 PNG padded with 8 MiB: its header says 8x8.
        let padded = dir.path().join("cat").join("1.png");
        png(&padded, 8, 8, 10, false);
        let mut bytes = std::fs::read(&padded).unwrap();
        bytes.resize(bytes.len() + (8 << 20), 0);
        std::fs::write(&padded, bytes).unwrap();
        let err = read(dir.path(), None, 1 << 30).unwrap_err().to_string();
        assert!(
            err.contains("1.png") && err.contains("far more than a 8x8 image needs"),
            "{err}"
        );
    }
}
