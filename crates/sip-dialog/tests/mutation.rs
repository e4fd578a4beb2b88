//! A deterministic mutation run over `fuzz/corpus/dialog` on every `cargo test`: each seed
//! is cut, overwritten, duplicated and salted with SIP punctuation, then fed to the fuzz
//! target body (a datagram to an agent with an answered call). `SWITCHBOARD_MUTATION_ITERS`
//! raises the count.
#![allow(clippy::unwrap_used)]

const DICT: [&[u8]; 10] = [
    b"\r\n",
    b";",
    b"<",
    b">",
    b"tag=TAG",
    b"CSeq: 9 INVITE\r\n",
    b"Content-Type: application/dtmf-relay\r\n",
    b"Signal=",
    b"Content-Length: 3\r\n",
    b"\r\nRecord-Route: <sip:192.0.2.9;lr>",
];

#[test]
fn mutated_datagrams_never_panic() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/dialog");
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    seeds.sort();
    let iters: usize = std::env::var("SWITCHBOARD_MUTATION_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for n in 0..iters {
        let mut d = seeds[n % seeds.len()].clone();
        for _ in 0..(1 + rnd() % 6) {
            let i = (rnd() as usize) % d.len().max(1);
            match rnd() % 4 {
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
                _ if !d.is_empty() => {
                    let s = i.min(d.len() - 1);
                    let e = (s + 1 + (rnd() as usize % 32)).min(d.len());
                    let c = d[s..e].to_vec();
                    let j = (rnd() as usize) % d.len();
                    d.splice(j..j, c);
                }
                _ => {}
            }
        }
        let input = d.clone();
        if std::panic::catch_unwind(move || sip_dialog::fuzzing::dialog(&d)).is_err() {
            let path = std::env::temp_dir().join(format!("dialog-mutation-{n}"));
            std::fs::write(&path, &input).unwrap();
            panic!("input {n} panicked; written to {}", path.display());
        }
    }
}
