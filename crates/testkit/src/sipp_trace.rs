//! What a finished SIPp left behind, read back: its message trace as a ladder of start
//! lines, the messages themselves, their headers, and its final statistics.

/// What a finished SIPp left behind.
#[derive(Debug)]
pub struct SippResult {
    /// Exit code (0: every call succeeded).
    pub code: Option<i32>,
    /// The message trace (`-trace_msg`).
    pub messages: String,
    /// The error trace (`-trace_err`).
    pub errors: String,
    /// What SIPp printed.
    pub output: String,
    /// The final statistics line pairs of `-trace_stat` (name → value).
    pub stats: Vec<(String, String)>,
}

impl SippResult {
    /// Fails unless SIPp exited 0.
    pub fn assert_ok(&self, what: &str) -> &Self {
        assert_eq!(
            self.code,
            Some(0),
            "SIPp {what} failed.\n--- errors ---\n{}\n--- messages ---\n{}\n--- output ---\n{}",
            self.errors,
            self.messages,
            self.output
        );
        self
    }

    /// The messages of the trace, in order, each with its direction
    /// (`true` = sent by this SIPp).
    pub fn trace(&self) -> Vec<(bool, String)> {
        let mut out = Vec::new();
        let mut cur: Option<(bool, String)> = None;
        for line in self.messages.lines() {
            let l = line.trim_end_matches('\r');
            if l.starts_with("----------------------------------------------- ") {
                if let Some(m) = cur.take() {
                    out.push(m);
                }
                continue;
            }
            if cur.is_none() {
                if l.contains("message sent") {
                    cur = Some((true, String::new()));
                } else if l.contains("message received") {
                    cur = Some((false, String::new()));
                }
                continue;
            }
            if let Some((_, m)) = cur.as_mut() {
                m.push_str(l);
                m.push('\n');
            }
        }
        if let Some(m) = cur.take() {
            out.push(m);
        }
        out.into_iter()
            .map(|(d, m)| (d, m.trim().to_string()))
            .filter(|(_, m)| !m.is_empty())
            .collect()
    }

    /// The first lines (start lines) of the trace, with direction markers: `>` sent, `<`
    /// received, e.g. `> INVITE`, `< 100`, `< SIP/2.0 180 Ringing` reduced to `< 180`.
    pub fn ladder(&self) -> Vec<String> {
        let mut trace = self.trace();
        // A retransmission is the same message again: one rung.
        trace.dedup();
        trace
            .iter()
            .map(|(sent, m)| {
                let first = m.lines().next().unwrap_or("");
                let what = match first.strip_prefix("SIP/2.0 ") {
                    Some(rest) => rest.split(' ').next().unwrap_or("").to_string(),
                    None => first.split(' ').next().unwrap_or("").to_string(),
                };
                format!("{} {what}", if *sent { ">" } else { "<" })
            })
            .collect()
    }

    /// The messages whose start line begins with `start` (e.g. `ACK`, `SIP/2.0 200`),
    /// in `sent` direction.
    pub fn find(&self, sent: bool, start: &str) -> Vec<String> {
        self.trace()
            .into_iter()
            .filter(|(d, m)| *d == sent && m.starts_with(start))
            .map(|(_, m)| m)
            .collect()
    }

    /// A counter of the final statistics (e.g. `SuccessfulCall(C)`).
    pub fn stat(&self, name: &str) -> Option<u64> {
        self.stats
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.trim().parse().ok())
    }
}

/// `rungs` as owned strings, for comparing with [`SippResult::ladder`].
pub fn rungs(rungs: &[&str]) -> Vec<String> {
    rungs.iter().map(|s| s.to_string()).collect()
}

/// What a busy-lamp-field key's SIPp (`uac-subscribe-*-expect-notify.xml`, RFC 4235) sees
/// of one call to the line it watches, after its subscription's first NOTIFY: the dialog
/// trying, early, confirmed and terminated, then its unsubscribe (`Expires: 0`, 200, the
/// final NOTIFY); each NOTIFY answered 200.
pub const BLF_ONE_CALL_RUNGS: &[&str] = &[
    "< NOTIFY",
    "> 200", // trying
    "< NOTIFY",
    "> 200", // early
    "< NOTIFY",
    "> 200", // confirmed
    "< NOTIFY",
    "> 200", // terminated
    "> SUBSCRIBE",
    "< 200",
    "< NOTIFY",
    "> 200", // unsubscribed
];

/// The ladder of a phone process that also talks over a 3PCC twin socket: a twin command
/// (a header block starting with its Call-ID) is the rung `twin`.
pub fn twin_ladder(r: &SippResult) -> Vec<String> {
    r.ladder()
        .into_iter()
        .map(|l| l.replace(" Call-ID:", " twin"))
        .collect()
}

/// The `tag` parameter of a From/To value.
pub fn tag(v: &str) -> String {
    v.split(";tag=")
        .nth(1)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

/// The name → value pairs of the last period of a `-trace_stat` file: a header line of
/// names and one line per period, `;`-separated.
pub fn last_stats(text: &str) -> Vec<(String, String)> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let names: Vec<&str> = lines.next().unwrap_or("").split(';').collect();
    let last: Vec<&str> = lines.next_back().unwrap_or("").split(';').collect();
    names
        .iter()
        .zip(last.iter())
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

/// The value of the first header `name` (case-insensitive) of a traced message.
pub fn header<'a>(msg: &'a str, name: &str) -> Option<&'a str> {
    headers(msg, name).into_iter().next()
}

/// Every value line of header `name` of a traced message, in order.
pub fn headers<'a>(msg: &'a str, name: &str) -> Vec<&'a str> {
    msg.lines()
        .take_while(|l| !l.trim().is_empty())
        .skip(1)
        .filter_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
        .collect()
}

/// The parameter `name` of a digest challenge or credentials header value.
pub fn digest_param<'a>(value: &'a str, name: &str) -> Option<&'a str> {
    let rest = value.trim().strip_prefix("Digest")?;
    rest.split(',').find_map(|p| {
        let (n, v) = p.split_once('=')?;
        n.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_matches('"'))
    })
}
