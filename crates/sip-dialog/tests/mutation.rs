//! A deterministic mutation run over `fuzz/corpus/dialog` on every `cargo test`: each seed
//! is cut, overwritten, duplicated and salted with SIP punctuation, then fed to the fuzz
//! target body (a datagram to an agent with an answered call). `SWITCHBOARD_MUTATION_ITERS`
//! raises the count.

use fuzz_corpus::{mutation_iterations, run_mutations, Mutator, XorShift};

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
    let seeds = fuzz_corpus::seeds(&["dialog"]);
    let mutator = Mutator {
        dictionary: &DICT,
        max_edits: 6,
        choices: 4,
        max_cut: 16,
        max_copy: 32,
    };
    run_mutations(
        "dialog",
        mutation_iterations(3000),
        &mut XorShift::new(0x2545_F491_4F6C_DD1D),
        &mutator,
        |n, _| seeds[n % seeds.len()].clone(),
        sip_dialog::fuzzing::dialog,
    );
}
