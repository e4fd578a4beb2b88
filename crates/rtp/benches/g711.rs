//! G.711 encode and decode of one 20 ms frame (160 samples at 8 kHz), the work a media
//! stream does 50 times a second each way. Figures belong in bench/, not in tests.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rtp::g711;

fn frame() -> Vec<i16> {
    // A 1 kHz tone at half scale: every segment of both laws gets used.
    (0..160)
        .map(|i| ((i as f64 * std::f64::consts::TAU / 8.0).sin() * 16000.0) as i16)
        .collect()
}

fn bench(c: &mut Criterion) {
    let samples = frame();
    let mut ulaw = Vec::with_capacity(160);
    g711::ulaw_encode_frame(&samples, &mut ulaw);
    let mut alaw = Vec::with_capacity(160);
    g711::alaw_encode_frame(&samples, &mut alaw);

    let mut g = c.benchmark_group("g711_frame_160");
    g.throughput(Throughput::Elements(160));
    let mut codes = Vec::with_capacity(160);
    let mut linear = Vec::with_capacity(160);
    g.bench_function("ulaw_encode", |b| {
        b.iter(|| {
            codes.clear();
            g711::ulaw_encode_frame(black_box(&samples), &mut codes);
            black_box(&codes);
        })
    });
    g.bench_function("alaw_encode", |b| {
        b.iter(|| {
            codes.clear();
            g711::alaw_encode_frame(black_box(&samples), &mut codes);
            black_box(&codes);
        })
    });
    g.bench_function("ulaw_decode", |b| {
        b.iter(|| {
            linear.clear();
            g711::ulaw_decode_frame(black_box(&ulaw), &mut linear);
            black_box(&linear);
        })
    });
    g.bench_function("alaw_decode", |b| {
        b.iter(|| {
            linear.clear();
            g711::alaw_decode_frame(black_box(&alaw), &mut linear);
            black_box(&linear);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
