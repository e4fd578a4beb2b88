//! A plain HTTP/1.1 client for the portal's tests (one request per connection, a cookie
//! jar, no redirects followed): enough to check status codes, headers and forms, with
//! nothing between the test and the bytes.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// An answer.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Header lines as (lowercase name, value), in order.
    pub headers: Vec<(String, String)>,
    /// The body as text.
    pub body: String,
}

impl Response {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of the first hidden `csrf` input in the body.
    pub fn csrf(&self) -> Option<String> {
        let at = self.body.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
        let end = self.body[at..].find('"')?;
        Some(self.body[at..at + end].to_string())
    }
}

/// A browser-like client: keeps the cookies the server sets.
#[derive(Debug, Clone)]
pub struct Client {
    addr: SocketAddr,
    /// Cookies by name.
    pub cookies: BTreeMap<String, String>,
    /// Sent as Accept-Language when set.
    pub accept_language: Option<String>,
}

/// Percent-encodes a form value.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl Client {
    /// A client of the server at `addr`, without cookies.
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            cookies: BTreeMap::new(),
            accept_language: None,
        }
    }

    /// GET `path`.
    pub fn get(&mut self, path: &str) -> Response {
        self.request("GET", path, None)
    }

    /// POST `fields` as a form to `path`.
    pub fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Response {
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        self.request("POST", path, Some(body.join("&")))
    }

    /// POST a `multipart/form-data` form (RFC 7578) to `path`: text `fields`, then one
    /// file field `file` named `filename` holding `bytes`.
    pub fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        file: (&str, &str, &[u8]),
    ) -> Response {
        let boundary = "----testkit-boundary-7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        let (name, filename, bytes) = file;
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        self.send(
            "POST",
            path,
            Some((&format!("multipart/form-data; boundary={boundary}"), &body)),
        )
    }

    /// Any request; the answer's cookies go into the jar.
    pub fn request(&mut self, method: &str, path: &str, form: Option<String>) -> Response {
        let body = form.unwrap_or_default();
        let content =
            (method == "POST").then_some(("application/x-www-form-urlencoded", body.as_bytes()));
        self.send(method, path, content)
    }

    /// A request with an optional (content type, body).
    fn send(&mut self, method: &str, path: &str, content: Option<(&str, &[u8])>) -> Response {
        let mut s = TcpStream::connect_timeout(&self.addr, Duration::from_secs(10)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.addr
        );
        if !self.cookies.is_empty() {
            let c: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req.push_str(&format!("Cookie: {}\r\n", c.join("; ")));
        }
        if let Some(l) = &self.accept_language {
            req.push_str(&format!("Accept-Language: {l}\r\n"));
        }
        let mut bytes = Vec::new();
        if let Some((content_type, body)) = content {
            req.push_str(&format!("Content-Type: {content_type}\r\n"));
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
            req.push_str("\r\n");
            bytes.extend_from_slice(req.as_bytes());
            bytes.extend_from_slice(body);
        } else {
            req.push_str("\r\n");
            bytes.extend_from_slice(req.as_bytes());
        }
        s.write_all(&bytes).unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let text = String::from_utf8_lossy(&raw).to_string();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        for (n, v) in &headers {
            if n == "set-cookie" {
                if let Some((k, rest)) = v.split_once('=') {
                    let val = rest.split(';').next().unwrap_or("");
                    if val.is_empty() || v.contains("Max-Age=0") {
                        self.cookies.remove(k);
                    } else {
                        self.cookies.insert(k.to_string(), val.to_string());
                    }
                }
            }
        }
        Response {
            status,
            headers,
            body: body.to_string(),
        }
    }

    /// A client at `addr` logged in as `name` (the login must succeed: 303).
    pub fn logged_in(addr: SocketAddr, name: &str, password: &str) -> Client {
        let mut c = Client::new(addr);
        let r = c.login(name, password);
        assert_eq!(r.status, 303, "login of {name}: {}", r.body);
        c
    }

    /// A client at `addr` logged in as the portal admin `root` that
    /// [`crate::server::with_portal`] adds.
    pub fn root(addr: SocketAddr) -> Client {
        Client::logged_in(addr, "root", "root-pw")
    }

    /// Logs in through the login form; returns the answer to the POST (303 on success).
    pub fn login(&mut self, name: &str, password: &str) -> Response {
        let form = self.get("/login");
        let token = form.csrf().unwrap_or_default();
        self.post(
            "/login",
            &[("csrf", &token), ("name", name), ("password", password)],
        )
    }

    /// The CSRF token of the page at `path` (a logged-in page with a form).
    pub fn token(&mut self, path: &str) -> String {
        let page = self.get(path);
        page.csrf()
            .unwrap_or_else(|| panic!("no CSRF token on {path} ({}):\n{}", page.status, page.body))
    }
}

/// The Prometheus page served on 127.0.0.1:`port` (`GET /metrics`), headers included;
/// panics unless it answers 200.
pub fn metrics_page(port: u16) -> String {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    conn.set_read_timeout(Some(crate::wait::HANG_GUARD))
        .unwrap();
    conn.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut page = String::new();
    conn.read_to_string(&mut page).unwrap();
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    page
}
