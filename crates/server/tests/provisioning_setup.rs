//! Provisioning through the real `switchboard` binary, issue 11 item 5: the CLI finds
//! its configuration in the documented order and creates no database but with `init`
//! (on SQLite, MariaDB and PostgreSQL). What it refuses: provisioning_checks.rs; passwords
//! from stdin or a prompt: provisioning_passwords.rs.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::path::PathBuf;

use testkit::cli::{entries, Admin};
use testkit::database::TempDatabase;

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// Item 5: `cd /tmp && switchboard domain add lost.example` printed "added" and created
/// `/tmp/data`. Now it fails, says where it looked, asks for `init`, and creates nothing.
#[test]
fn a_command_in_a_fresh_directory_creates_nothing_until_init() {
    let a = Admin::new(BIN);
    let err = a.fails(&["domain", "add", "lost.example"]);
    let db = a.path().join("data/switchboard.db");
    assert!(err.contains(&db.display().to_string()), "{err}");
    assert!(err.contains("run `switchboard init`"), "{err}");
    assert!(err.contains("built-in defaults"), "{err}");
    assert_eq!(entries(a.path()), Vec::<PathBuf>::new(), "nothing created");

    // The same with a configuration that leaves data_dir unset.
    let cfg = a.path().join("conf.toml");
    std::fs::write(&cfg, "[registrar]\nmin_expires = 30\n").unwrap();
    let err = a.fails(&["-c", cfg.to_str().unwrap(), "user", "list"]);
    assert!(err.contains("switchboard init"), "{err}");
    assert!(err.contains("conf.toml from --config"), "{err}");
    assert!(!a.path().join("data").exists());

    let out = a.ok(&["init"]);
    assert!(out.contains("initialised"), "{out}");
    assert!(db.is_file());
    a.ok(&["domain", "add", "lost.example"]);
    assert!(a.ok(&["domain", "list"]).contains("lost.example"));
    // init again is harmless and keeps the data.
    assert!(a.ok(&["init"]).contains("already initialised"));
    assert!(a.ok(&["domain", "list"]).contains("lost.example"));
}

/// On MariaDB and PostgreSQL (when their URLs are set): an empty database is not taken for
/// Switchboard's; `init` creates the tables, then provisioning works.
#[test]
fn init_creates_the_schema_on_mariadb_and_postgres() {
    for postgres in [false, true] {
        let Some(db) = TempDatabase::create(postgres) else {
            continue;
        };
        let a = Admin::new(BIN);
        let cfg = a.path().join("db.toml");
        std::fs::write(
            &cfg,
            format!(
                "[server]\ndata_dir = {:?}\n[database]\nurl = {:?}\n",
                a.path().join("data"),
                db.url
            ),
        )
        .unwrap();
        let c = cfg.to_str().unwrap();
        let err = a.fails(&["-c", c, "domain", "add", "example.com"]);
        assert!(err.contains("run `switchboard init`"), "{err}");
        // Where it looked, without the password.
        let creds = db.url.split("://").nth(1).and_then(|r| r.split_once('@'));
        if let Some((_, pw)) = creds.and_then(|(c, _)| c.split_once(':')) {
            assert!(!err.contains(&format!(":{pw}@")), "{err}");
            assert!(err.contains(":***@"), "{err}");
        }
        a.ok(&["-c", c, "init"]);
        a.ok(&["-c", c, "domain", "add", "example.com"]);
        assert!(a.ok(&["-c", c, "domain", "list"]).contains("example.com"));
    }
}

/// `--config`, then `SWITCHBOARD_CONFIG`, then `./switchboard.toml`, then defaults.
#[test]
fn the_configuration_is_found_in_the_documented_order() {
    let a = Admin::new(BIN);
    let conf = |name: &str, data: &str| {
        let p = a.path().join(name);
        std::fs::write(
            &p,
            format!("[server]\ndata_dir = {:?}\n", a.path().join(data)),
        )
        .unwrap();
        p
    };
    conf("switchboard.toml", "local");
    let env_cfg = conf("env.toml", "from-env");
    let flag_cfg = conf("flag.toml", "from-flag");

    a.ok(&["init"]);
    assert!(a.path().join("local/switchboard.db").is_file());
    let out = a.run_with(&[("SWITCHBOARD_CONFIG", &env_cfg)], None, &["init"]);
    assert!(out.status.success());
    assert!(a.path().join("from-env/switchboard.db").is_file());
    let out = a.run_with(
        &[("SWITCHBOARD_CONFIG", &env_cfg)],
        None,
        &["--config", flag_cfg.to_str().unwrap(), "init"],
    );
    assert!(out.status.success());
    assert!(a.path().join("from-flag/switchboard.db").is_file());

    // Success prints only the answer.
    let out = a.run(&["domain", "list"]);
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A file named by the variable must exist.
    let missing = a.path().join("missing.toml");
    let out = a.run_with(
        &[("SWITCHBOARD_CONFIG", &missing)],
        None,
        &["domain", "list"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.toml"));
}
