//! Criterion bench of media processing throughput: the whole pipeline (sniff, bounded decode,
//! re-encode without metadata, 400 px preview, blurhash) on 1024×768 photos-like images.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;

use core_app::config::MediaConfig;
use core_app::media::pipeline;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use image::{DynamicImage, ImageFormat, RgbImage};

/// A 1024×768 picture with gradients and pseudo-random grain, so encoders see photo-like
/// entropy rather than flat colour.
fn photo() -> DynamicImage {
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    DynamicImage::ImageRgb8(RgbImage::from_fn(1024, 768, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let grain = (seed % 24) as u32;
        image::Rgb([((x / 4 + grain) % 256) as u8, ((y / 3 + grain) % 256) as u8, (((x + y) / 7 + grain) % 256) as u8])
    }))
}

fn encoded(format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    photo().write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn media_processing(c: &mut Criterion) {
    let limits = MediaConfig::default();
    let mut group = c.benchmark_group("media");
    group.sample_size(20);
    group.throughput(Throughput::Elements(1));
    for (name, format) in [("jpeg_1024x768", ImageFormat::Jpeg), ("png_1024x768", ImageFormat::Png)] {
        let bytes = encoded(format);
        group.bench_function(name, |b| b.iter(|| pipeline::process(&bytes, None, &limits).unwrap()));
    }
    let video = {
        let mut v = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2".to_vec();
        v.resize(8 * 1024 * 1024, 1);
        v
    };
    group.bench_function("mp4_8mb_passthrough", |b| b.iter(|| pipeline::process(&video, None, &limits).unwrap()));
    group.finish();
}

criterion_group!(benches, media_processing);
criterion_main!(benches);
