//! A deterministic mutation run over the fuzz corpora on every `cargo test`: each seed is
//! cut, spliced, overwritten and salted with SIP punctuation, then fed to the three fuzz
//! target bodies. `SWITCHBOARD_MUTATION_ITERS` raises the count (300 000 ran clean in
//! release mode when this was written). A failing input is written to the temp directory.
#![allow(clippy::unwrap_used)]

const DICT: [&[u8]; 12] = [
    b"\r\n",
    b"\r\n ",
    b",",
    b";",
    b"\"",
    b"<",
    b">",
    b"Via: SIP/2.0/UDP h;branch=z9hG4bK1",
    b"\r\nRoute: <sip:a;lr>",
    b"l: 0",
    b"\r\n\r\n",
    b"Content-Length: 5",
];

fn seeds() -> Vec<Vec<u8>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/");
    let mut seeds = vec![];
    for t in ["message", "uri", "stream_framing"] {
        let mut paths: Vec<_> = std::fs::read_dir(format!("{dir}{t}"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        for p in paths {
            seeds.push(std::fs::read(p).unwrap());
        }
    }
    seeds
}

fn mutate(d: &mut Vec<u8>, rnd: &mut impl FnMut() -> u64) {
    for _ in 0..(1 + rnd() % 8) {
        let i = (rnd() as usize) % d.len().max(1);
        match rnd() % 5 {
            0 if !d.is_empty() => {
                let k = i.min(d.len() - 1);
                d[k] = rnd() as u8;
            }
            1 => {
                let w = DICT[(rnd() % DICT.len() as u64) as usize];
                let i = i.min(d.len());
                d.splice(i..i, w.iter().copied());
            }
            2 if !d.is_empty() => {
                let s = i.min(d.len() - 1);
                let e = (s + 1 + (rnd() as usize % 16)).min(d.len());
                d.drain(s..e);
            }
            3 if !d.is_empty() => {
                let s = i.min(d.len() - 1);
                let e = (s + 1 + (rnd() as usize % 64)).min(d.len());
                let c = d[s..e].to_vec();
                let j = (rnd() as usize) % d.len();
                d.splice(j..j, c);
            }
            _ => {}
        }
    }
}

#[test]
fn mutated_corpus_keeps_every_invariant() {
    let seeds = seeds();
    let iters: u64 = std::env::var("SWITCHBOARD_MUTATION_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3000);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for n in 0..iters {
        let mut d = seeds[(rnd() % seeds.len() as u64) as usize].clone();
        mutate(&mut d, &mut rnd);
        let r = std::panic::catch_unwind(|| {
            sip_message::fuzzing::message(&d);
            sip_message::fuzzing::uri(&d);
            sip_message::fuzzing::stream_framing(&d);
        });
        if r.is_err() {
            let path = std::env::temp_dir().join(format!("sip-message-mutation-{n}"));
            std::fs::write(&path, &d).unwrap();
            panic!("invariant broken on input {n}, saved to {}", path.display());
        }
    }
}
