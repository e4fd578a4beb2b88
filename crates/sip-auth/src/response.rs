//! The digest computation (RFC 2617 §3.2.2, RFC 7616 §3.4.1-3.4.3) and
//! server-side verification of a response.

use subtle::ConstantTimeEq;

use crate::{Algorithm, Credentials, Qop};

/// `H(username ":" realm ":" password)` as lowercase hex.
///
/// This is the value a registrar should store instead of the password. For
/// `-sess` algorithms pass it unchanged to [`compute_response`], which
/// derives the session HA1 itself.
pub fn ha1(algorithm: Algorithm, username: &str, realm: &str, password: &str) -> String {
    algorithm.hash_hex(&[
        username.as_bytes(),
        b":",
        realm.as_bytes(),
        b":",
        password.as_bytes(),
    ])
}

/// `H(username ":" realm)`, the value sent as `username` when `userhash=true`
/// (RFC 7616 §3.4.4).
pub fn userhash(algorithm: Algorithm, username: &str, realm: &str) -> String {
    algorithm.hash_hex(&[username.as_bytes(), b":", realm.as_bytes()])
}

/// Computes the `response` value in lowercase hex.
///
/// * `ha1_hex` is `H(username:realm:password)`; for `-sess` algorithms the
///   session key `H(ha1_hex:nonce:cnonce)` is derived here.
/// * `nc` is formatted as 8 lowercase hex digits; it and `cnonce` are only
///   used when `qop` is set (or, for `cnonce`, by `-sess`).
/// * `qop: None` gives the RFC 2069 form `H(HA1:nonce:HA2)`.
/// * `body` is only hashed for [`Qop::AuthInt`] (`HA2 = H(method:uri:H(body))`).
#[allow(clippy::too_many_arguments)] // Mirrors the RFC's inputs one to one.
pub fn compute_response(
    algorithm: Algorithm,
    ha1_hex: &str,
    nonce: &str,
    nc: u32,
    cnonce: &str,
    qop: Option<Qop>,
    method: &str,
    digest_uri: &str,
    body: &[u8],
) -> String {
    let session_ha1;
    let ha1_hex = if algorithm.is_session() {
        session_ha1 = algorithm.hash_hex(&[
            ha1_hex.as_bytes(),
            b":",
            nonce.as_bytes(),
            b":",
            cnonce.as_bytes(),
        ]);
        session_ha1.as_str()
    } else {
        ha1_hex
    };
    let ha2 = match qop {
        Some(Qop::AuthInt) => {
            let body_hash = algorithm.hash_hex(&[body]);
            algorithm.hash_hex(&[
                method.as_bytes(),
                b":",
                digest_uri.as_bytes(),
                b":",
                body_hash.as_bytes(),
            ])
        }
        Some(Qop::Auth) | None => {
            algorithm.hash_hex(&[method.as_bytes(), b":", digest_uri.as_bytes()])
        }
    };
    match qop {
        Some(q) => {
            let nc_hex = format!("{nc:08x}");
            algorithm.hash_hex(&[
                ha1_hex.as_bytes(),
                b":",
                nonce.as_bytes(),
                b":",
                nc_hex.as_bytes(),
                b":",
                cnonce.as_bytes(),
                b":",
                q.as_str().as_bytes(),
                b":",
                ha2.as_bytes(),
            ])
        }
        None => algorithm.hash_hex(&[
            ha1_hex.as_bytes(),
            b":",
            nonce.as_bytes(),
            b":",
            ha2.as_bytes(),
        ]),
    }
}

/// Checks `credentials.response` against the expected digest, comparing in
/// constant time (hex case is ignored).
///
/// `ha1_hex` must be `H(username:realm:password)` for the credentials'
/// algorithm. This checks only the digest: the caller must still check that
/// the nonce is one it issued and fresh ([`crate::NonceSigner::check`]), that
/// `nc` is not replayed ([`crate::NonceCountTracker`]), that `realm` is its
/// own, that `opaque` matches, and that `uri` matches the Request-URI.
///
/// Returns `false` for structurally inconsistent credentials (qop without
/// `nc`/`cnonce`, `-sess` without `cnonce`).
pub fn verify(credentials: &Credentials<'_>, ha1_hex: &str, method: &str, body: &[u8]) -> bool {
    let algorithm = credentials.effective_algorithm();
    let cnonce = credentials.cnonce.as_deref();
    let nc = match (credentials.qop, credentials.nc, cnonce) {
        (Some(_), Some(nc), Some(_)) => nc,
        (Some(_), _, _) => return false,
        (None, _, _) => 0,
    };
    if algorithm.is_session() && cnonce.is_none() {
        return false;
    }
    let expected = compute_response(
        algorithm,
        ha1_hex,
        &credentials.nonce,
        nc,
        cnonce.unwrap_or(""),
        credentials.qop,
        method,
        &credentials.uri,
        body,
    );
    let got = credentials.response.as_bytes();
    if got.len() != expected.len() {
        return false;
    }
    let got_lower: Vec<u8> = got.iter().map(u8::to_ascii_lowercase).collect();
    bool::from(got_lower.ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC7616_NONCE: &str = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
    const RFC7616_CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
    const RFC7616_REALM: &str = "http-auth@example.org";

    /// The response of the RFCs' worked examples: Mufasa fetches `GET /dir/index.html`
    /// with qop=auth and nc=1.
    fn get_dir_index(
        alg: Algorithm,
        realm: &str,
        password: &str,
        nonce: &str,
        cnonce: &str,
    ) -> String {
        let h = ha1(alg, "Mufasa", realm, password);
        compute_response(
            alg,
            &h,
            nonce,
            1,
            cnonce,
            Some(Qop::Auth),
            "GET",
            "/dir/index.html",
            b"",
        )
    }

    #[test]
    fn rfc2617_section_3_5() {
        let r = get_dir_index(
            Algorithm::Md5,
            "testrealm@host.com",
            "Circle Of Life",
            "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            "0a4f113b",
        );
        assert_eq!(r, "6629fae49393a05397450978507c4ef1");
    }

    #[test]
    fn rfc7616_section_3_9_1_md5() {
        let r = get_dir_index(
            Algorithm::Md5,
            RFC7616_REALM,
            "Circle of Life",
            RFC7616_NONCE,
            RFC7616_CNONCE,
        );
        assert_eq!(r, "8ca523f5e9506fed4657c9700eebdbec");
    }

    #[test]
    fn rfc7616_section_3_9_1_sha256() {
        let r = get_dir_index(
            Algorithm::Sha256,
            RFC7616_REALM,
            "Circle of Life",
            RFC7616_NONCE,
            RFC7616_CNONCE,
        );
        assert_eq!(
            r,
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
    }

    #[test]
    fn rfc2069_and_sess_and_auth_int_by_hand() {
        let alg = Algorithm::Md5;
        let h = ha1(alg, "u", "r", "p");
        let ha2 = alg.hash_hex(&[b"INVITE:sip:a@b"]);
        let expect = alg.hash_hex(&[format!("{h}:n:{ha2}").as_bytes()]);
        assert_eq!(
            compute_response(alg, &h, "n", 7, "c", None, "INVITE", "sip:a@b", b""),
            expect
        );

        let sess = Algorithm::Sha256Sess;
        let h = ha1(sess, "u", "r", "p");
        let hs = sess.hash_hex(&[format!("{h}:n:c").as_bytes()]);
        let hb = sess.hash_hex(&[b"body"]);
        let ha2 = sess.hash_hex(&[format!("INVITE:sip:a@b:{hb}").as_bytes()]);
        let expect = sess.hash_hex(&[format!("{hs}:n:0000001f:c:auth-int:{ha2}").as_bytes()]);
        let got = compute_response(
            sess,
            &h,
            "n",
            31,
            "c",
            Some(Qop::AuthInt),
            "INVITE",
            "sip:a@b",
            b"body",
        );
        assert_eq!(got, expect);
    }

    #[test]
    fn verify_rfc7616_credentials() {
        let input = format!(
            "Digest username=\"Mufasa\", realm=\"{RFC7616_REALM}\", uri=\"/dir/index.html\", \
             algorithm=MD5, nonce=\"{RFC7616_NONCE}\", nc=00000001, cnonce=\"{RFC7616_CNONCE}\", \
             qop=auth, response=\"8CA523F5E9506FED4657C9700EEBDBEC\""
        );
        let c = Credentials::parse(&input).unwrap();
        let h = ha1(Algorithm::Md5, "Mufasa", RFC7616_REALM, "Circle of Life");
        assert!(verify(&c, &h, "GET", b""));
        assert!(!verify(&c, &h, "POST", b""));
        let wrong = ha1(Algorithm::Md5, "Mufasa", RFC7616_REALM, "circle of life");
        assert!(!verify(&c, &wrong, "GET", b""));
        let mut truncated = c.clone();
        truncated.response = "8ca523f5".into();
        assert!(!verify(&truncated, &h, "GET", b""));
        let mut no_nc = c.clone();
        no_nc.nc = None;
        assert!(!verify(&no_nc, &h, "GET", b""));
        let mut sess_without_cnonce = c;
        sess_without_cnonce.qop = None;
        sess_without_cnonce.cnonce = None;
        sess_without_cnonce.algorithm = Some(Algorithm::Md5Sess);
        assert!(!verify(&sess_without_cnonce, &h, "GET", b""));
    }

    #[test]
    fn verify_all_algorithms_and_qops() {
        for alg in Algorithm::ALL {
            for qop in [None, Some(Qop::Auth), Some(Qop::AuthInt)] {
                let h = ha1(alg, "alice", "atlanta.com", "secret");
                let response = compute_response(
                    alg,
                    &h,
                    "abc",
                    3,
                    "xyz",
                    qop,
                    "REGISTER",
                    "sip:atlanta.com",
                    b"v=0",
                );
                let c = Credentials {
                    username: "alice".into(),
                    realm: "atlanta.com".into(),
                    nonce: "abc".into(),
                    uri: "sip:atlanta.com".into(),
                    response: response.into(),
                    algorithm: Some(alg),
                    cnonce: Some("xyz".into()),
                    qop,
                    nc: qop.map(|_| 3),
                    ..Default::default()
                };
                let reparsed = c.to_string();
                let c = Credentials::parse(&reparsed).unwrap();
                assert!(verify(&c, &h, "REGISTER", b"v=0"), "{alg} {qop:?}");
                let body_matters = qop == Some(Qop::AuthInt);
                assert_eq!(verify(&c, &h, "REGISTER", b"v=1"), !body_matters);
            }
        }
    }

    #[test]
    fn userhash_value() {
        let u = userhash(Algorithm::Sha256, "Mufasa", RFC7616_REALM);
        assert_eq!(u.len(), 64);
    }
}
