//! Longest-prefix route lookup with 100,000 prefixes (issue 14): the cost of routing one
//! call to a number, which must not grow with the size of the route table.

#![allow(clippy::unwrap_used, missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use model::{CallClass, Gateway, GatewayTransport, Route};
use proxy::PstnTable;

fn table(routes: usize) -> PstnTable {
    let gw = Gateway {
        name: "gw".into(),
        addr: "192.0.2.1:5060".parse().unwrap(),
        transport: GatewayTransport::Udp,
        strip: 0,
        prefix: String::new(),
        probe_secs: 0,
        tls_verify: Default::default(),
    };
    // Prefixes of 4 to 9 digits, spread like a carrier's rate sheet.
    let rs = (0..routes)
        .map(|i| {
            let len = 4 + i % 6;
            let digits = format!(
                "{:0>9}",
                (i as u64).wrapping_mul(2_654_435_761) % 1_000_000_000
            );
            Route {
                prefix: format!("+{}", &digits[..len]),
                domain: None,
                gateways: vec!["gw".into()],
                class: CallClass::National,
            }
        })
        .collect();
    let t = PstnTable::new();
    t.replace(vec![gw], rs);
    t
}

fn lookup(c: &mut Criterion) {
    for n in [1_000, 100_000] {
        let t = table(n);
        let numbers: Vec<String> = (0..1024u64)
            .map(|i| {
                format!(
                    "+{:0>12}",
                    i.wrapping_mul(11_400_714_819_323_198_485) % 10u64.pow(12)
                )
            })
            .collect();
        let mut i = 0;
        c.bench_function(&format!("route_lookup_{n}_prefixes"), |b| {
            b.iter(|| {
                i = (i + 1) % numbers.len();
                black_box(t.lookup("example.com", &numbers[i]))
            })
        });
    }
}

criterion_group!(benches, lookup);
criterion_main!(benches);
