//! Debian's baresip as a real softphone: a config directory of its own, an account on the
//! server, a WAV file as microphone (`aufile`) and the decoded far-end audio dumped to a WAV
//! file (`sndfile`), so a test can check what was heard.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A configured baresip, not started yet or running.
pub struct Baresip {
    /// Its config directory (also where it dumps audio).
    pub dir: PathBuf,
    netns: Option<String>,
    child: Option<Child>,
}

/// Writes 16-bit mono 8 kHz PCM WAV: `secs` seconds of a sine at `hz`.
pub fn write_tone(path: &Path, hz: f64, secs: u32) {
    let n = 8000 * secs;
    let mut data = Vec::with_capacity(n as usize * 2);
    for i in 0..n {
        let v = (8000.0 * (2.0 * std::f64::consts::PI * hz * f64::from(i) / 8000.0).sin()) as i16;
        data.extend_from_slice(&v.to_le_bytes());
    }
    let mut f = std::fs::File::create(path).unwrap();
    let len = data.len() as u32;
    f.write_all(b"RIFF").unwrap();
    f.write_all(&(36 + len).to_le_bytes()).unwrap();
    f.write_all(b"WAVEfmt ").unwrap();
    f.write_all(&16u32.to_le_bytes()).unwrap();
    f.write_all(&1u16.to_le_bytes()).unwrap(); // PCM
    f.write_all(&1u16.to_le_bytes()).unwrap(); // mono
    f.write_all(&8000u32.to_le_bytes()).unwrap();
    f.write_all(&16000u32.to_le_bytes()).unwrap();
    f.write_all(&2u16.to_le_bytes()).unwrap();
    f.write_all(&16u16.to_le_bytes()).unwrap();
    f.write_all(b"data").unwrap();
    f.write_all(&len.to_le_bytes()).unwrap();
    f.write_all(&data).unwrap();
}

/// The 16-bit samples of a PCM WAV file (its `data` chunk).
pub fn read_wav_samples(path: &Path) -> Vec<i16> {
    let bytes = std::fs::read(path).unwrap();
    let mut at = 12;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        if id == b"data" {
            let end = (at + 8 + len).min(bytes.len());
            return bytes[at + 8..end]
                .chunks_exact(2)
                .map(|c| i16::from_le_bytes([c[0], c[1]]))
                .collect();
        }
        at += 8 + len + (len & 1);
    }
    Vec::new()
}

/// The samples of a PCM WAV file still being written: everything after the `data` chunk's
/// header up to the end of the file (a writer fills in the chunk's length only when it
/// closes the file).
pub fn read_growing_wav_samples(path: &Path) -> Vec<i16> {
    let bytes = std::fs::read(path).unwrap_or_default();
    let Some(at) = bytes.windows(4).position(|w| w == b"data") else {
        return Vec::new();
    };
    bytes
        .get(at + 8..)
        .unwrap_or_default()
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect()
}

/// The share of the signal's energy at `hz` (Goertzel over the whole slice): near 1 for a
/// clean tone at `hz`, near 0 for silence, noise or another tone.
pub fn tone_share(samples: &[i16], hz: f64, rate: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let w = 2.0 * std::f64::consts::PI * hz / rate;
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    let mut total = 0.0f64;
    for &x in samples {
        let x = f64::from(x);
        total += x * x;
        let s0 = x + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    let n = samples.len() as f64;
    if total == 0.0 {
        0.0
    } else {
        // A pure tone of amplitude A: power = (A n / 2)^2, total = A^2 n / 2.
        (2.0 * power / n) / total
    }
}

impl Baresip {
    /// A phone for `user@domain` with `password`, sending its requests to `proxy`
    /// (`sip:HOST:PORT`), playing `tone` as its microphone. `answer`: auto-answer calls.
    pub fn new(
        dir: &Path,
        user: &str,
        domain: &str,
        password: &str,
        proxy: &str,
        tone: &Path,
        answer: bool,
    ) -> Baresip {
        std::fs::create_dir_all(dir).unwrap();
        let config = format!(
            "poll_method epoll\nsip_listen 0.0.0.0:0\n\
             audio_player aubridge,nowhere\naudio_alert aubridge,nowhere\n\
             audio_source aufile,{tone}\nsnd_path {dir}\n\
             module_path /usr/lib/baresip/modules\nmodule g711.so\nmodule aufile.so\n\
             module aubridge.so\nmodule sndfile.so\nmodule_app account.so\nmodule_app menu.so\n",
            tone = tone.display(),
            dir = dir.display(),
        );
        std::fs::write(dir.join("config"), config).unwrap();
        let answermode = if answer { ";answermode=auto" } else { "" };
        std::fs::write(
            dir.join("accounts"),
            format!(
                "<sip:{user}@{domain}>;auth_pass={password};outbound=\"{proxy}\";regint=300{answermode}\n"
            ),
        )
        .unwrap();
        Baresip {
            dir: dir.to_path_buf(),
            netns: None,
            child: None,
        }
    }

    /// Calls without registering (a service endpoint takes no REGISTER) and uses only the
    /// loopback interface, so its SDP offers 127.0.0.1.
    pub fn unregistered_on_loopback(self) -> Self {
        let accounts = self.dir.join("accounts");
        let a = std::fs::read_to_string(&accounts).unwrap();
        std::fs::write(&accounts, a.replace("regint=300", "regint=0")).unwrap();
        self.on_loopback()
    }

    /// Uses only the loopback interface, so its SDP and Contact say 127.0.0.1.
    pub fn on_loopback(self) -> Self {
        self.with_config_line("net_interface 127.0.0.1")
    }

    /// Registers with RFC 5626 outbound (`sipnat=outbound`), with the instance id the
    /// `uuid` module keeps in its directory.
    pub fn with_outbound(self) -> Self {
        let accounts = self.dir.join("accounts");
        let a = std::fs::read_to_string(&accounts).expect("baresip accounts");
        std::fs::write(
            &accounts,
            a.replace("regint=300", "regint=300;sipnat=outbound"),
        )
        .expect("writing baresip accounts");
        let config = self.dir.join("config");
        let c = std::fs::read_to_string(&config).expect("baresip config");
        std::fs::write(
            &config,
            c.replace(
                "module_app account.so",
                "module_app uuid.so\nmodule_app account.so",
            ),
        )
        .expect("writing baresip config");
        self
    }

    /// Adds a line to its `config` file (e.g. `sip_cafile /path/ca.pem`).
    pub fn with_config_line(self, line: &str) -> Self {
        let config = self.dir.join("config");
        let mut c = std::fs::read_to_string(&config).unwrap();
        c.push_str(line);
        c.push('\n');
        std::fs::write(&config, c).unwrap();
        self
    }

    /// Loads `ctrl_tcp` listening on 127.0.0.1:`port`, for [`Baresip::command`] while it
    /// runs.
    pub fn with_control(self, port: u16) -> Self {
        self.with_config_line("module_app ctrl_tcp.so")
            .with_config_line(&format!("ctrl_tcp_listen 127.0.0.1:{port}"))
    }

    /// Runs a command (as typed after `/`, e.g. `sndcode 1`: send DTMF 1 by RFC 4733, then
    /// its release) through `ctrl_tcp` on `port` (see [`Baresip::with_control`]); returns
    /// baresip's answer (a netstring of JSON).
    pub fn command(port: u16, command: &str) -> String {
        use std::io::Read as _;
        let (name, params) = command.split_once(' ').unwrap_or((command, ""));
        let json = format!("{{\"command\":{name:?},\"params\":{params:?},\"token\":\"testkit\"}}");
        let mut tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        tcp.write_all(format!("{}:{json},", json.len()).as_bytes())
            .unwrap();
        let mut answer = Vec::new();
        let mut buf = [0u8; 4096];
        // One netstring back: LEN:JSON, (the response to our token).
        while !answer.ends_with(b",") || !String::from_utf8_lossy(&answer).contains("testkit") {
            let Ok(n) = tcp.read(&mut buf) else {
                break;
            };
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&answer).into_owned()
    }

    /// Runs inside the network namespace `ns`.
    pub fn in_netns(mut self, ns: &str) -> Self {
        self.netns = Some(ns.into());
        self
    }

    /// Starts it; it quits (hanging up its calls) after `quit_after`. `commands` are run at
    /// start (`-e`, e.g. `/dial sip:bob@example.com`).
    pub fn start(&mut self, quit_after: Duration, commands: &[&str]) {
        let mut c = match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, "baresip"]);
                c
            }
            None => Command::new("baresip"),
        };
        c.arg("-f")
            .arg(&self.dir)
            .arg("-t")
            .arg(quit_after.as_secs().to_string());
        for cmd in commands {
            c.arg("-e").arg(cmd);
        }
        let out = std::fs::File::create(self.dir.join("output.log")).unwrap();
        c.stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out);
        self.child = Some(
            c.spawn()
                .expect("baresip not installed? (apt-get install baresip-core)"),
        );
    }

    /// What it printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(self.dir.join("output.log")).unwrap_or_default()
    }

    /// Waits (bounded) for it to quit on its own.
    pub fn wait(&mut self, limit: Duration) {
        if let Some(mut c) = self.child.take() {
            crate::wait::wait_child(&mut c, "baresip", limit);
        }
    }

    /// The far-end audio it decoded so far in its call, while it runs (the dump's header
    /// is completed only when the call ends); empty before the call is answered.
    pub fn heard_so_far(&self) -> Vec<i16> {
        std::fs::read_dir(&self.dir)
            .ok()
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("dump-") && n.ends_with("-dec.wav"))
            })
            .map(|p| read_growing_wav_samples(&p))
            .unwrap_or_default()
    }

    /// The far-end audio it decoded during its call (`dump-*-dec.wav`).
    pub fn heard(&self) -> Vec<i16> {
        let dump = std::fs::read_dir(&self.dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("dump-") && n.ends_with("-dec.wav"))
            })
            .unwrap_or_else(|| {
                panic!(
                    "no decoded audio in {}:\n{}",
                    self.dir.display(),
                    self.output()
                )
            });
        read_wav_samples(&dump)
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Alice (playing 440 Hz) calls bob (auto-answering, playing 1000 Hz) through `node`, both
/// baresip phones of `node`'s demo users sending to `proxy` and placed by `place` (e.g.
/// [`Baresip::on_loopback`], or into a namespace). Bob registers first; alice dials at
/// once and hangs up when she quits, a few seconds later. Returns `(alice, bob)` once the
/// call has ended at bob's phone, after checking that alice saw it established.
pub fn baresip_call(
    node: &crate::server::Server,
    proxy: &str,
    place: impl Fn(Baresip) -> Baresip,
) -> (Baresip, Baresip) {
    use crate::server::{password, DOMAIN};
    use crate::wait::{wait_until, HANG_GUARD};
    let dir = node.dir.path();
    write_tone(&dir.join("a440.wav"), 440.0, 20);
    write_tone(&dir.join("b1000.wav"), 1000.0, 20);
    let phone = |user: &str, tone: &str, answer: bool| {
        place(Baresip::new(
            &dir.join(format!("baresip-{user}")),
            user,
            DOMAIN,
            &password(user),
            proxy,
            &dir.join(tone),
            answer,
        ))
    };
    let mut bob = phone("bob", "b1000.wav", true);
    bob.start(Duration::from_secs(40), &[]);
    wait_until("bob's baresip to register", HANG_GUARD, || {
        !crate::location::contacts(node, "bob").is_empty()
    });
    let mut alice = phone("alice", "a440.wav", false);
    alice_calls_bob(&mut alice, &bob, Duration::from_secs(5));
    (alice, bob)
}

/// Alice's started-later phone dials bob (of the demo domain) and quits after `quit_after`,
/// hanging up; returns once the call has ended at bob's phone, after checking that alice
/// saw it established.
pub fn alice_calls_bob(alice: &mut Baresip, bob: &Baresip, quit_after: Duration) {
    use crate::server::DOMAIN;
    use crate::wait::{wait_until, HANG_GUARD};
    alice.start(quit_after, &[&format!("/dial sip:bob@{DOMAIN}")]);
    alice.wait(HANG_GUARD);
    wait_until("the call to end at bob's phone", HANG_GUARD, || {
        bob.output().contains("terminated")
    });
    assert!(
        alice.output().contains("Call established"),
        "{}",
        alice.output()
    );
}

/// What [`baresip_call`]'s phones heard of each other: alice plays 440 Hz and bob 1000 Hz;
/// each must have heard more than 2 s, mostly the other's tone once the first half second
/// (the streams starting, maybe silence) is past.
pub fn assert_heard_each_other(heard_by_bob: &[i16], heard_by_alice: &[i16]) {
    for (who, heard) in [("bob", heard_by_bob), ("alice", heard_by_alice)] {
        assert!(
            heard.len() > 8000 * 2,
            "{who} heard {} samples",
            heard.len()
        );
    }
    let share = tone_share(&heard_by_bob[4000..], 440.0, 8000.0);
    assert!(
        share > 0.5,
        "bob did not hear alice's 440 Hz (share {share:.2})"
    );
    let share = tone_share(&heard_by_alice[4000..], 1000.0, 8000.0);
    assert!(
        share > 0.5,
        "alice did not hear bob's 1000 Hz (share {share:.2})"
    );
}
