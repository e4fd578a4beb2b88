//! [`Editor`]: edits to a received message, recorded and applied once while printing.
//!
//! A proxy forwards a request with a handful of changes (a new Via on top, one Route less,
//! a Record-Route, Max-Forwards minus one, maybe a new Request-URI). Instead of rebuilding
//! the message, the editor keeps a list of byte-range operations over the original header
//! section and writes the result in one pass into a caller-owned, reusable buffer.

use std::fmt;
use std::ops::Range;

use crate::digits::push_args;
use crate::header_name::HeaderName;
use crate::message::{SipMessage, Span, StartLine};

#[derive(Debug, Clone, Copy)]
enum OpKind {
    Insert,
    Replace(u32),
    Delete(u32),
}

#[derive(Debug, Clone, Copy)]
struct Op {
    at: u32,
    kind: OpKind,
    text: (u32, u32),
}

/// Text an [`Editor`] writes: a `&str`, copied as it is, or `format_args!(..)`, formatted
/// (a literal without arguments is copied as well).
pub trait EditText {
    /// Appends the text to `out`.
    fn push_to(self, out: &mut Vec<u8>);
}

impl EditText for &str {
    fn push_to(self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
}

impl EditText for fmt::Arguments<'_> {
    fn push_to(self, out: &mut Vec<u8>) {
        push_args(out, self);
    }
}

/// Records changes to a [`SipMessage`] and prints the result.
#[derive(Debug, Clone)]
pub struct Editor<'m> {
    msg: &'m SipMessage,
    ops: Vec<Op>,
    removed: Vec<u16>,
    arena: Vec<u8>,
    body: Option<Range<usize>>,
}

impl<'m> Editor<'m> {
    /// Starts editing `msg`. Nothing is copied until [`Editor::write_to`].
    pub fn new(msg: &'m SipMessage) -> Self {
        Editor {
            msg,
            ops: Vec::new(),
            removed: Vec::new(),
            // A branch's Via, Record-Route and Request-URI fit without regrowing.
            arena: Vec::with_capacity(256),
            body: None,
        }
    }

    fn text(&mut self, text: impl EditText) -> (u32, u32) {
        let s = self.arena.len();
        text.push_to(&mut self.arena);
        (s as u32, self.arena.len() as u32)
    }

    /// Inserts the header line `name: value` at `at`.
    fn insert_at(&mut self, at: usize, name: &str, value: impl EditText) {
        let s = self.arena.len();
        self.arena.extend_from_slice(name.as_bytes());
        self.arena.extend_from_slice(b": ");
        value.push_to(&mut self.arena);
        self.arena.extend_from_slice(b"\r\n");
        self.ops.push(Op {
            at: at as u32,
            kind: OpKind::Insert,
            text: (s as u32, self.arena.len() as u32),
        });
    }

    /// Adds a header line at the very top of the header section.
    pub fn prepend_header(&mut self, name: &str, value: impl EditText) {
        let at = self.msg.headers_start();
        self.insert_at(at, name, value);
    }

    /// Adds a header line just before the line of field `index` (e.g. a new Via above the
    /// topmost one, a Record-Route above the existing ones).
    pub fn insert_before(&mut self, index: usize, name: &str, value: impl EditText) {
        let at = self
            .msg
            .fields()
            .get(index)
            .map(|f| f.line.start as usize)
            .unwrap_or(self.msg.headers_start());
        self.insert_at(at, name, value);
    }

    /// Adds a header line above the first field named `name`, or at the top when there is
    /// none: the RFC 3261 position for Via, Record-Route and Path.
    pub fn push_front(&mut self, name: HeaderName, value: impl EditText) {
        match self.msg.fields().iter().position(|f| f.name == name) {
            Some(i) => self.insert_before(i, name.as_str(), value),
            None => self.prepend_header(name.as_str(), value),
        }
    }

    /// Adds a header line at the end of the header section.
    pub fn append_header(&mut self, name: &str, value: impl EditText) {
        let at = self.msg.headers_end();
        self.insert_at(at, name, value);
    }

    /// Removes one value (one Via of `Via: a, b` keeps `Via: b`) or a whole line.
    pub fn remove(&mut self, index: usize) {
        if index < self.msg.fields().len() && !self.removed.contains(&(index as u16)) {
            self.removed.push(index as u16);
        }
    }

    /// Replaces the value of field `index`.
    pub fn replace_value(&mut self, index: usize, value: impl EditText) {
        if let Some(f) = self.msg.fields().get(index) {
            let span = f.value;
            let text = self.text(value);
            self.ops.push(Op {
                at: span.start,
                kind: OpKind::Replace(span.end),
                text,
            });
        }
    }

    /// Replaces the Request-URI.
    pub fn set_request_uri(&mut self, uri: impl EditText) {
        if let StartLine::Request { uri: span, .. } = self.msg.start_line() {
            let text = self.text(uri);
            self.ops.push(Op {
                at: span.start,
                kind: OpKind::Replace(span.end),
                text,
            });
        }
    }

    /// Sets Max-Forwards (replacing the header or adding it).
    pub fn set_max_forwards(&mut self, n: u8) {
        match self
            .msg
            .fields()
            .iter()
            .position(|f| f.name == HeaderName::MaxForwards)
        {
            Some(i) => self.replace_value(i, format_args!("{n}")),
            None => self.append_header("Max-Forwards", format_args!("{n}")),
        }
    }

    /// Replaces the body; Content-Length follows. `content_type` replaces or adds the
    /// Content-Type header when given.
    pub fn set_body(&mut self, content_type: Option<&str>, body: &[u8]) {
        let s = self.arena.len();
        self.arena.extend_from_slice(body);
        self.body = Some(s..self.arena.len());
        if let Some(ct) = content_type {
            match self
                .msg
                .fields()
                .iter()
                .position(|f| f.name == HeaderName::ContentType)
            {
                Some(i) => self.replace_value(i, format_args!("{ct}")),
                None => self.append_header("Content-Type", format_args!("{ct}")),
            }
        }
    }

    fn removal_ops(&mut self) {
        let fields = self.msg.fields();
        let mut removed = std::mem::take(&mut self.removed);
        removed.sort_unstable();
        let mut k = 0;
        while k < removed.len() {
            let f = fields[removed[k] as usize];
            // All removed values that share this line.
            let mut n = 1;
            while k + n < removed.len() && fields[removed[k + n] as usize].line == f.line {
                n += 1;
            }
            if n == f.values_in_line as usize {
                self.ops.push(Op {
                    at: f.line.start,
                    kind: OpKind::Delete(f.line.end),
                    text: (0, 0),
                });
            } else if n == 1 {
                self.ops.push(Op {
                    at: f.cut.start,
                    kind: OpKind::Delete(f.cut.end),
                    text: (0, 0),
                });
            } else {
                // Several values of one line go: rewrite the line's value list.
                let gone: Vec<u16> = removed[k..k + n].to_vec();
                let s = self.arena.len();
                let mut first = true;
                for (i, g) in fields.iter().enumerate() {
                    if g.line == f.line && !gone.contains(&(i as u16)) {
                        if !first {
                            self.arena.extend_from_slice(b", ");
                        }
                        first = false;
                        self.arena
                            .extend_from_slice(self.msg.head()[g.value.range()].as_bytes());
                    }
                }
                let text = (s as u32, self.arena.len() as u32);
                let lv = f.line_value;
                self.ops.push(Op {
                    at: lv.start,
                    kind: OpKind::Replace(lv.end),
                    text,
                });
            }
            k += n;
        }
        self.removed = removed;
    }

    /// Prints the edited message into `out` (appending). Call as often as needed.
    pub fn write_to(&mut self, out: &mut Vec<u8>) {
        let before = self.ops.len();
        self.removal_ops();
        // Content-Length must follow a new body.
        if let Some(b) = self.body.clone() {
            let len = b.len();
            match self
                .msg
                .fields()
                .iter()
                .position(|f| f.name == HeaderName::ContentLength)
            {
                Some(i) => self.replace_value(i, format_args!("{len}")),
                None => self.append_header("Content-Length", format_args!("{len}")),
            }
        }
        let mut ops = self.ops.clone();
        // Inserts at a position go before a delete/replace starting there; otherwise keep
        // the order in which edits were made.
        ops.sort_by_key(|o| (o.at, !matches!(o.kind, OpKind::Insert)));
        let head = self.msg.head().as_bytes();
        out.reserve(head.len() + self.arena.len() + self.msg.body().len());
        let mut cursor = 0usize;
        for op in &ops {
            let at = op.at as usize;
            if at > cursor {
                out.extend_from_slice(&head[cursor..at]);
                cursor = at;
            }
            out.extend_from_slice(&self.arena[op.text.0 as usize..op.text.1 as usize]);
            match op.kind {
                OpKind::Insert => {}
                OpKind::Replace(end) | OpKind::Delete(end) => cursor = cursor.max(end as usize),
            }
        }
        out.extend_from_slice(&head[cursor..]);
        match &self.body {
            Some(b) => out.extend_from_slice(&self.arena[b.clone()]),
            None => out.extend_from_slice(self.msg.body()),
        }
        self.ops.truncate(before);
    }

    /// Prints into a new buffer.
    pub fn to_vec(&mut self) -> Vec<u8> {
        let mut v = Vec::new();
        self.write_to(&mut v);
        v
    }

    /// The span helper for callers that hold a field index.
    pub fn field_span(&self, index: usize) -> Option<Span> {
        self.msg.fields().get(index).map(|f| f.value)
    }
}
