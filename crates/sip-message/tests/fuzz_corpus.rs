//! Replays every file of `fuzz/corpus/{message,uri,stream_framing}` through the fuzz target
//! bodies (`sip_message::fuzzing`), so the seeds and any crash the fuzzer finds and saves
//! stay checked by a plain `cargo test` on stable.
use fuzz_corpus::{corpus, replay};

#[test]
fn message_corpus() {
    // The 50 RFC 4475 messages and our own seeds.
    replay("message", 54, sip_message::fuzzing::message);
}

#[test]
fn uri_corpus() {
    replay("uri", 10, sip_message::fuzzing::uri);
}

#[test]
fn stream_framing_corpus() {
    replay("stream_framing", 5, sip_message::fuzzing::stream_framing);
}

#[test]
fn message_corpus_also_framed_as_a_stream() {
    // Every message seed, fed as a stream behind four chunk-size bytes.
    for (_, data) in corpus("message") {
        let mut d = vec![3, 17, 1, 40];
        d.extend_from_slice(&data);
        sip_message::fuzzing::stream_framing(&d);
    }
}
