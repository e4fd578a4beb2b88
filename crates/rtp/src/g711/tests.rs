//! G.711 against the reference: known vectors from the published tables, a line-by-line
//! transliteration of G.191's `g711.c` compared on every 16-bit input, and the error
//! bounds of a decode after an encode.

use super::*;

/// G.191 `ulaw_compress` as written in C (one sample).
fn g191_ulaw_compress(lin: i16) -> u8 {
    let lin = i32::from(lin);
    let mut absno = if lin < 0 {
        ((!lin) >> 2) + 33
    } else {
        (lin >> 2) + 33
    };
    if absno > 0x1fff {
        absno = 0x1fff;
    }
    let mut i = absno >> 6;
    let mut segno = 1;
    while i != 0 {
        segno += 1;
        i >>= 1;
    }
    let high_nibble = 0x0008 - segno;
    let low_nibble = 0x000f - ((absno >> segno) & 0x000f);
    let mut log = (high_nibble << 4) | low_nibble;
    if lin >= 0 {
        log |= 0x0080;
    }
    log as u8
}

/// G.191 `alaw_compress` as written in C (one sample).
fn g191_alaw_compress(lin: i16) -> u8 {
    let lin = i32::from(lin);
    let mut ix = if lin < 0 { (!lin) >> 4 } else { lin >> 4 };
    if ix > 15 {
        let mut iexp = 1;
        while ix > 16 + 15 {
            ix >>= 1;
            iexp += 1;
        }
        ix -= 16;
        ix += iexp << 4;
    }
    if lin >= 0 {
        ix |= 0x0080;
    }
    (ix ^ 0x0055) as u8
}

#[test]
fn encoders_match_g191_on_every_sample() {
    for s in i16::MIN..=i16::MAX {
        assert_eq!(ulaw_encode(s), g191_ulaw_compress(s), "mu-law {s}");
        assert_eq!(alaw_encode(s), g191_alaw_compress(s), "A-law {s}");
    }
}

#[test]
fn decoders_match_the_published_tables() {
    let ulaw_first: [i16; 17] = [
        -32124, -31100, -30076, -29052, -28028, -27004, -25980, -24956, -23932, -22908, -21884,
        -20860, -19836, -18812, -17788, -16764, -15996,
    ];
    assert_eq!(&ULAW_TO_LINEAR[..17], &ulaw_first);
    let ulaw_quiet: [i16; 16] = [
        -120, -112, -104, -96, -88, -80, -72, -64, -56, -48, -40, -32, -24, -16, -8, 0,
    ];
    assert_eq!(&ULAW_TO_LINEAR[0x70..0x80], &ulaw_quiet);
    assert_eq!((ulaw_decode(0x80), ulaw_decode(0xff)), (32124, 0));
    let alaw_first: [i16; 9] = [
        -5504, -5248, -6016, -5760, -4480, -4224, -4992, -4736, -7552,
    ];
    assert_eq!(&ALAW_TO_LINEAR[..9], &alaw_first);
    assert_eq!((alaw_decode(0x55), alaw_decode(0xd5)), (-8, 8));
    assert_eq!((alaw_decode(0x2a), alaw_decode(0xaa)), (-32256, 32256));
    // Both laws are odd-symmetric: the sign bit flips the sample.
    for c in 0..128u8 {
        assert_eq!(ulaw_decode(c), -ulaw_decode(c | 0x80));
        assert_eq!(alaw_decode(c), -alaw_decode(c | 0x80));
    }
}

#[test]
fn encoder_known_vectors() {
    assert_eq!((ulaw_encode(0), ulaw_encode(-1)), (0xff, 0x7f));
    assert_eq!((ulaw_encode(i16::MAX), ulaw_encode(i16::MIN)), (0x80, 0x00));
    assert_eq!((alaw_encode(0), alaw_encode(-1)), (0xd5, 0x55));
    assert_eq!((alaw_encode(i16::MAX), alaw_encode(i16::MIN)), (0xaa, 0x2a));
}

#[test]
fn every_code_survives_decode_then_encode() {
    for c in 0..=255u8 {
        assert_eq!(alaw_encode(alaw_decode(c)), c, "A-law {c:#x}");
        // mu-law has two zeros: 0x7f decodes to 0, which encodes as 0xff.
        let expect = if c == 0x7f { 0xff } else { c };
        assert_eq!(ulaw_encode(ulaw_decode(c)), expect, "mu-law {c:#x}");
    }
}

#[test]
fn decode_of_encode_stays_within_half_a_step() {
    // Segment steps grow with the magnitude: the error is at most |x|/32 plus the
    // smallest step, and the clipping at the top of each law.
    for s in i16::MIN..=i16::MAX {
        let bound = i32::from(s).abs() / 32 + 16;
        let u = i32::from(ulaw_decode(ulaw_encode(s)));
        let a = i32::from(alaw_decode(alaw_encode(s)));
        assert!((u - i32::from(s)).abs() <= bound, "mu-law {s} -> {u}");
        assert!((a - i32::from(s)).abs() <= bound, "A-law {s} -> {a}");
    }
}

#[test]
fn frames_encode_and_decode_in_order() {
    let samples: Vec<i16> = (0..160).map(|i| (i * 200 - 16000) as i16).collect();
    let (mut u, mut a) = (Vec::new(), Vec::new());
    ulaw_encode_frame(&samples, &mut u);
    alaw_encode_frame(&samples, &mut a);
    assert_eq!((u.len(), a.len()), (160, 160));
    let (mut du, mut da) = (Vec::new(), Vec::new());
    ulaw_decode_frame(&u, &mut du);
    alaw_decode_frame(&a, &mut da);
    assert_eq!(du[5], ulaw_decode(ulaw_encode(samples[5])));
    assert_eq!(da[159], alaw_decode(alaw_encode(samples[159])));
}
