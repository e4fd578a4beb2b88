//! G.711 (ITU-T G.711) mu-law and A-law, bit-exact with the ITU-T G.191 reference
//! implementation (`g711.c`: `ulaw_compress`, `ulaw_expand`, `alaw_compress`,
//! `alaw_expand`) for every 16-bit input.
//!
//! Decoding is a 256-entry table built at compile time from the reference formulas;
//! encoding is the reference's arithmetic, which is branch-light and needs no table.

/// Encodes one linear 16-bit sample to mu-law (G.191 `ulaw_compress`).
#[inline]
pub fn ulaw_encode(sample: i16) -> u8 {
    // One's complement for negative values, then 14-bit magnitude plus the bias 33.
    let magnitude = if sample < 0 { !sample } else { sample };
    let absno = ((magnitude >> 2) as u16 + 33).min(0x1fff);
    // Segment: 1 + the position of the highest set bit of absno >> 6.
    let segment = (16 - (absno >> 6).leading_zeros()) as u16 + 1;
    let high = 8 - segment;
    let low = 0x0f - ((absno >> segment) & 0x0f);
    let code = (high << 4 | low) as u8;
    if sample >= 0 {
        code | 0x80
    } else {
        code
    }
}

/// Encodes one linear 16-bit sample to A-law (G.191 `alaw_compress`).
#[inline]
pub fn alaw_encode(sample: i16) -> u8 {
    let magnitude = if sample < 0 { !sample } else { sample };
    let mut ix = magnitude as u16 >> 4;
    if ix > 15 {
        // The reference shifts right until 16 <= ix <= 31, counting from exponent 1:
        // the exponent is the bit length less 4, found without the loop.
        let bits = 16 - ix.leading_zeros() as u16;
        let exponent = bits - 4;
        ix = (ix >> (bits - 5)) - 16 + (exponent << 4);
    }
    if sample >= 0 {
        ix |= 0x80;
    }
    ix as u8 ^ 0x55
}

const fn ulaw_expand(code: u8) -> i16 {
    let mantissa = !code;
    let exponent = (mantissa >> 4) & 0x07;
    let segment = exponent + 1;
    let mantissa = (mantissa & 0x0f) as i32;
    let step = 4i32 << segment;
    let value = (0x80i32 << exponent) + step * mantissa + step / 2 - 4 * 33;
    if code < 0x80 {
        -value as i16
    } else {
        value as i16
    }
}

const fn alaw_expand(code: u8) -> i16 {
    let ix = (code ^ 0x55) & 0x7f;
    let exponent = ix >> 4;
    let mut mantissa = (ix & 0x0f) as i32;
    if exponent > 0 {
        mantissa += 16;
    }
    mantissa = (mantissa << 4) + 0x08;
    if exponent > 1 {
        mantissa <<= exponent - 1;
    }
    if code > 127 {
        mantissa as i16
    } else {
        -mantissa as i16
    }
}

macro_rules! table {
    ($expand:ident) => {{
        let mut t = [0i16; 256];
        let mut i = 0;
        while i < 256 {
            t[i] = $expand(i as u8);
            i += 1;
        }
        t
    }};
}

/// Mu-law code to linear sample (G.191 `ulaw_expand`).
pub static ULAW_TO_LINEAR: [i16; 256] = table!(ulaw_expand);
/// A-law code to linear sample (G.191 `alaw_expand`).
pub static ALAW_TO_LINEAR: [i16; 256] = table!(alaw_expand);

/// Decodes one mu-law code.
#[inline]
pub fn ulaw_decode(code: u8) -> i16 {
    ULAW_TO_LINEAR[usize::from(code)]
}

/// Decodes one A-law code.
#[inline]
pub fn alaw_decode(code: u8) -> i16 {
    ALAW_TO_LINEAR[usize::from(code)]
}

/// Encodes `samples` to mu-law, appending to `out`.
pub fn ulaw_encode_frame(samples: &[i16], out: &mut Vec<u8>) {
    out.extend(samples.iter().map(|&s| ulaw_encode(s)));
}

/// Encodes `samples` to A-law, appending to `out`.
pub fn alaw_encode_frame(samples: &[i16], out: &mut Vec<u8>) {
    out.extend(samples.iter().map(|&s| alaw_encode(s)));
}

/// Decodes mu-law `codes`, appending to `out`.
pub fn ulaw_decode_frame(codes: &[u8], out: &mut Vec<i16>) {
    out.extend(codes.iter().map(|&c| ulaw_decode(c)));
}

/// Decodes A-law `codes`, appending to `out`.
pub fn alaw_decode_frame(codes: &[u8], out: &mut Vec<i16>) {
    out.extend(codes.iter().map(|&c| alaw_decode(c)));
}

#[cfg(test)]
mod tests;
