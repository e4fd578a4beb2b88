//! A static web site on a free loopback port: the files of one directory served over
//! plain HTTP/1.1 (GET only, one request per connection), for pages a test opens in the
//! browser, such as the browser-phone page of the WebRTC tests. `http://127.0.0.1` is a
//! secure context for Chromium, so such a page may use the microphone.
//!
//! Not a web server for anything else: no directory listing, no `..`, no keep-alive.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};

/// The site: its thread serves until the test process ends.
pub struct StaticSite {
    /// The port it listens on (127.0.0.1).
    pub port: u16,
}

impl StaticSite {
    /// Serves the files of `dir` on a free port of 127.0.0.1.
    pub fn serve(dir: &Path) -> StaticSite {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let dir = dir.to_path_buf();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let dir = dir.clone();
                std::thread::spawn(move || answer(&dir, stream));
            }
        });
        StaticSite { port }
    }

    /// `http://127.0.0.1:PORT`, the site's origin (what a browser sends as `Origin`).
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn answer(dir: &Path, mut stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // The rest of the request head is not needed.
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) if line == "\r\n" || line == "\n" => break,
            Ok(_) => {}
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let file = resolve(dir, path);
    let (status, body, kind) = match file.and_then(|f| std::fs::read(&f).ok().map(|b| (f, b))) {
        Some((f, body)) => ("200 OK", body, content_type(&f)),
        None => ("404 Not Found", b"not found".to_vec(), "text/plain"),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
}

/// The file of `dir` that `path` names, or None for anything outside it.
fn resolve(dir: &Path, path: &str) -> Option<PathBuf> {
    let name = path.split('?').next()?.trim_start_matches('/');
    if name.is_empty() || name.contains("..") || name.contains('\\') {
        return None;
    }
    Some(dir.join(name))
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::resolve;
    use std::path::Path;

    #[test]
    fn only_files_inside_the_directory_are_served() {
        let dir = Path::new("/srv/site");
        assert_eq!(
            resolve(dir, "/phone.html?x=1"),
            Some(dir.join("phone.html"))
        );
        assert_eq!(resolve(dir, "/../etc/passwd"), None);
        assert_eq!(resolve(dir, "/"), None);
    }
}
