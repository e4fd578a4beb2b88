//! Provisioning through the real `switchboard` binary, one test per defect of issue 11
//! items 6 and 7: names clash neither way; nonsense domains, targets and CSV files are
//! refused with errors naming the field; `location clear` asks for `--all`; `--json`
//! errors are JSON.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use testkit::cli::Admin;

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// Item 6: a user and an alias may not share a name, in either order, nor through import.
#[test]
fn a_user_and_an_alias_cannot_share_a_name() {
    let a = Admin::provisioned(BIN);
    a.ok(&["alias", "add", "15551234@example.com", "alice@example.com"]);
    let err = a.fails(&["user", "add", "15551234@example.com", "--password", "x"]);
    assert!(
        err.contains("user 15551234@example.com: the name is taken by alias"),
        "{err}"
    );
    let csv = a.path().join("users.csv");
    std::fs::write(&csv, "15551234,example.com,secret\n").unwrap();
    let err = a.fails(&["user", "import", csv.to_str().unwrap()]);
    assert!(err.contains("is an alias"), "{err}");

    a.ok(&["user", "add", "bob@example.com", "--password", "pw-bob"]);
    let err = a.fails(&["alias", "add", "bob@example.com", "alice@example.com"]);
    assert!(
        err.contains("alias bob@example.com: the name is taken by user bob@example.com"),
        "{err}"
    );
    let users = a.ok(&["user", "list"]);
    assert!(!users.contains("15551234"), "{users}");
}

/// Item 7: nonsense domains are refused, each with an error naming the field and saying
/// what is wrong; nothing is stored.
#[test]
fn nonsense_domains_are_refused_with_the_reason() {
    let a = Admin::provisioned(BIN);
    let long = format!("{}.example", "a".repeat(70));
    for (bad, why) in [
        ("a..b", "empty label"),
        (".com", "empty label"),
        ("foo.", "trailing dot"),
        ("256.1.1.1", "not a valid IPv4 address"),
        (long.as_str(), "longer than 63 characters"),
        ("example.net:5060", "without a port"),
        ("sip:example.net", "without a scheme"),
    ] {
        let err = a.fails(&["domain", "add", bad]);
        assert!(
            err.contains(&format!("error: domain {bad:?}: ")),
            "{bad}: {err}"
        );
        assert!(err.contains(why), "{bad}: {err}");
    }
    assert_eq!(a.ok(&["domain", "list"]).trim(), "DOMAIN\nexample.com");
    // IP literals are domains too.
    a.ok(&["domain", "add", "192.0.2.10"]);
    a.ok(&["domain", "add", "[2001:db8::1]"]);

    let err = a.fails(&["alias", "add", "100@elsewhere.test", "alice@example.com"]);
    assert!(
        err.contains("domain elsewhere.test is not served here"),
        "{err}"
    );
    let err = a.fails(&["user", "list", "--domain", "nowhere.test"]);
    assert!(
        err.contains("domain nowhere.test is not served here"),
        "{err}"
    );

    let cfg = a.path().join("bad.toml");
    std::fs::write(&cfg, "[sip]\nadvertised_host = \"my host\"\n").unwrap();
    let err = a.fails(&["-c", cfg.to_str().unwrap(), "domain", "list"]);
    assert!(err.contains("sip.advertised_host: \"my host\""), "{err}");
}

/// Item 7: forwarding and find-me targets are local users that exist or explicit external
/// SIP URIs; a find-me URI keeps its port; rows pointing into a deleted domain or at a
/// deleted user go with it.
#[test]
fn targets_exist_or_are_external_and_go_with_their_owner() {
    let a = Admin::provisioned(BIN);
    let err = a.fails(&[
        "forward",
        "set",
        "alice@example.com",
        "always",
        "ghost@example.com",
    ]);
    assert!(err.contains("no user or alias ghost@example.com"), "{err}");
    let err = a.fails(&["forward", "set", "alice@example.com", "busy", "4711"]);
    assert!(err.contains("no user or alias 4711@example.com"), "{err}");
    let err = a.fails(&[
        "forward",
        "set",
        "alice@example.com",
        "busy",
        "bob@other.net",
    ]);
    assert!(
        err.contains("write the SIP URI, sip:bob@other.net"),
        "{err}"
    );
    let err = a.fails(&[
        "forward",
        "set",
        "alice@example.com",
        "busy",
        "sip:bob@a..b",
    ]);
    assert!(err.contains("empty label"), "{err}");

    a.ok(&[
        "findme",
        "set",
        "alice@example.com",
        "sip:desk@192.0.2.4:5060",
    ]);
    let list = a.ok(&["--json", "findme", "list"]);
    let v: serde_json::Value = serde_json::from_str(list.trim()).unwrap();
    assert_eq!(v[0]["target"], "sip:desk@192.0.2.4:5060");
    assert_eq!(v[0]["ring_secs"], 20);

    // Targets in another served domain, then that domain deleted.
    a.ok(&["domain", "add", "other.test"]);
    a.ok(&["user", "add", "bob@other.test", "--password", "pw-bob"]);
    a.ok(&["user", "add", "carol@example.com", "--password", "pw-carol"]);
    a.ok(&[
        "forward",
        "set",
        "alice@example.com",
        "always",
        "bob@other.test",
    ]);
    a.ok(&[
        "forward",
        "set",
        "alice@example.com",
        "no-answer",
        "sip:bob@other.test",
    ]);
    a.ok(&[
        "forward",
        "set",
        "alice@example.com",
        "busy",
        "carol@example.com",
    ]);
    a.ok(&[
        "findme",
        "set",
        "alice@example.com",
        "bob@other.test,10",
        "sip:desk@192.0.2.4:5060,15",
    ]);
    a.ok(&["domain", "del", "other.test"]);
    let fwd = a.ok(&["--json", "forward", "list"]);
    let v: serde_json::Value = serde_json::from_str(fwd.trim()).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1, "{fwd}");
    assert_eq!(v[0]["target"], "carol@example.com");
    let fm = a.ok(&["--json", "findme", "list"]);
    let v: serde_json::Value = serde_json::from_str(fm.trim()).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1, "{fm}");
    assert_eq!(v[0]["target"], "sip:desk@192.0.2.4:5060");
    assert_eq!(v[0]["ring_secs"], 15);

    // Deleting a user takes forwarding to it (and to its aliases) along.
    a.ok(&["alias", "add", "200@example.com", "carol@example.com"]);
    a.ok(&["forward", "set", "alice@example.com", "unavailable", "200"]);
    a.ok(&["user", "del", "carol@example.com"]);
    let fwd = a.ok(&["--json", "forward", "list"]);
    assert_eq!(fwd.trim(), "[]");
}

/// Item 7: a CSV file with a UTF-8 byte-order mark (as Excel writes it) imports.
#[test]
fn a_csv_with_a_byte_order_mark_imports() {
    let a = Admin::provisioned(BIN);
    let csv = a.path().join("excel.csv");
    std::fs::write(
        &csv,
        "\u{feff}username,domain,password\r\nbob,example.com,pw-bob\r\ncarol,example.com,pw-c\r\n",
    )
    .unwrap();
    let out = a.ok(&["user", "import", csv.to_str().unwrap()]);
    assert!(out.contains("2 user(s) imported"), "{out}");
    let users = a.ok(&["user", "list"]);
    assert!(users.contains("bob@example.com") && users.contains("carol@example.com"));
}

/// Item 7: `location clear` without a user no longer removes everyone: it names the
/// missing argument; `--all` does it.
#[test]
fn location_clear_without_a_user_asks_for_all() {
    let a = Admin::provisioned(BIN);
    let err = a.fails(&["location", "clear"]);
    assert!(err.contains("missing USER@DOMAIN or --all"), "{err}");
    let out = a.ok(&["location", "clear", "--all"]);
    assert!(out.contains("registration(s) removed"), "{out}");
    a.ok(&["location", "clear", "alice@example.com"]);
}

/// Item 7: with `--json`, errors are `{"error": "..."}` on stdout, and the exit is
/// non-zero, for a refused value, a missing database and a usage error alike.
#[test]
fn json_errors_are_json() {
    let fresh = Admin::new(BIN);
    let a = Admin::provisioned(BIN);
    for (who, args) in [
        (&a, vec!["--json", "domain", "add", "a..b"]),
        (&fresh, vec!["--json", "domain", "list"]),
        (&a, vec!["--json", "location", "clear"]),
        (&a, vec!["--json", "user", "add"]),
    ] {
        let out = who.run(&args);
        assert!(!out.status.success(), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        let v: serde_json::Value =
            serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{args:?}: {e}: {text:?}"));
        assert!(
            v["error"].as_str().is_some_and(|s| !s.is_empty()),
            "{args:?}: {v}"
        );
    }
    let out = a.run(&["--json", "domain", "add", "a..b"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"], "domain \"a..b\": empty label");
}
