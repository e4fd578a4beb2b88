//! `digest_verify`: parse an `Authorization` header value and verify the
//! digest, for MD5 and SHA-256.

use criterion::{black_box, criterion_main, Criterion};
use sip_auth::{compute_response, ha1, verify, Algorithm, Credentials, Qop};

fn header(alg: Algorithm, ha1_hex: &str) -> String {
    let nonce = "6d2bd3cf3b8a2f0e0000000065a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3";
    let response = compute_response(
        alg,
        ha1_hex,
        nonce,
        1,
        "0a4f113b",
        Some(Qop::Auth),
        "REGISTER",
        "sip:atlanta.com",
        b"",
    );
    format!(
        "Digest username=\"alice\", realm=\"atlanta.com\", nonce=\"{nonce}\", \
         uri=\"sip:atlanta.com\", response=\"{response}\", algorithm={alg}, \
         cnonce=\"0a4f113b\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\", qop=auth, nc=00000001"
    )
}

fn digest_verify(c: &mut Criterion) {
    let mut group = c.benchmark_group("digest_verify");
    for (name, alg) in [("md5", Algorithm::Md5), ("sha256", Algorithm::Sha256)] {
        let ha1_hex = ha1(alg, "alice", "atlanta.com", "secret");
        let value = header(alg, &ha1_hex);
        group.bench_function(name, |b| {
            b.iter(|| {
                let creds = Credentials::parse(black_box(&value)).ok();
                creds.is_some_and(|c| verify(&c, black_box(&ha1_hex), "REGISTER", b""))
            })
        });
    }
    group.finish();
}

mod group {
    #![allow(missing_docs)] // criterion_group! generates an undocumented pub fn.
    use super::digest_verify;
    use criterion::criterion_group;

    criterion_group!(benches, digest_verify);
}

criterion_main!(group::benches);
