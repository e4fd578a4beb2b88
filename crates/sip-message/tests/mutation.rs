//! A deterministic mutation run over the fuzz corpora on every `cargo test`: each seed is
//! cut, spliced, overwritten and salted with SIP punctuation, then fed to the three fuzz
//! target bodies. `SWITCHBOARD_MUTATION_ITERS` raises the count (300 000 ran clean in
//! release mode when this was written). A failing input is written to the temp directory.

use fuzz_corpus::{mutation_iterations, run_mutations, Mutator, XorShift};

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

#[test]
fn mutated_corpus_keeps_every_invariant() {
    let seeds = fuzz_corpus::seeds(&["message", "uri", "stream_framing"]);
    let mutator = Mutator {
        dictionary: &DICT,
        max_edits: 8,
        choices: 5,
        max_cut: 16,
        max_copy: 64,
    };
    run_mutations(
        "sip-message",
        mutation_iterations(3000),
        &mut XorShift::new(0x9E37_79B9_7F4A_7C15),
        &mutator,
        |_, rnd| seeds[rnd.below(seeds.len())].clone(),
        |d| {
            sip_message::fuzzing::message(d);
            sip_message::fuzzing::uri(d);
            sip_message::fuzzing::stream_framing(d);
        },
    );
}
