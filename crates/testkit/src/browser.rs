//! A real headless Chromium (Debian's `chromium`), driven through `chromedriver` over
//! WebDriver with the fantoccini client, for the portal's browser tests. Blocking methods
//! (the tests are plain `#[test]`s that also run SIPp), each with a bounded wait.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

use crate::ports::free_port;
use crate::wait::HANG_GUARD;

/// Chromium's switches for a browser phone ([`Browser::phone`]).
const PHONE_SWITCHES: &[&str] = &[
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--ignore-certificate-errors",
    "--autoplay-policy=no-user-gesture-required",
];

/// A browser session.
pub struct Browser {
    rt: tokio::runtime::Runtime,
    client: Option<Client>,
    driver: Child,
    /// The portal's base URL (`http://127.0.0.1:PORT`).
    pub base: String,
}

impl Browser {
    /// Starts chromedriver on a free port and a headless Chromium on a phone-or-desktop
    /// window of `width` x `height`, for the portal at `base`.
    pub fn start(base: &str, width: u32, height: u32) -> Browser {
        Browser::start_with(base, width, height, &[])
    }

    /// A browser phone's Chromium for the page at `base`: fake microphone and camera
    /// (a beeping tone) with the permission prompt answered yes, loopback ICE candidates
    /// allowed (WebRTC ignores loopback otherwise) and unmasked (no mDNS names), and
    /// certificate errors ignored, so a WSS listener's self-signed certificate is
    /// accepted (this test browser only).
    pub fn phone(base: &str) -> Browser {
        Browser::start_with(base, 800, 600, PHONE_SWITCHES)
    }

    /// [`Browser::phone`] whose fake microphone plays the WAV file `wav` (looped) instead
    /// of beeping: a known tone the far end can look for.
    pub fn phone_playing(base: &str, wav: &Path) -> Browser {
        let file = format!("--use-file-for-fake-audio-capture={}", wav.display());
        let mut switches = PHONE_SWITCHES.to_vec();
        switches.push(&file);
        Browser::start_with(base, 800, 600, &switches)
    }

    /// [`Browser::start`] with `extra` command-line switches for Chromium.
    pub fn start_with(base: &str, width: u32, height: u32, extra: &[&str]) -> Browser {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver not installed? (apt-get install chromium chromium-driver)");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut args: Vec<String> = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--lang=en-US",
        ]
        .iter()
        .chain(extra)
        .map(|a| a.to_string())
        .collect();
        args.push(format!("--window-size={width},{height}"));
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({ "binary": "/usr/bin/chromium", "args": args }),
        );
        if extra.contains(&"--ignore-certificate-errors") {
            caps.insert("acceptInsecureCerts".into(), serde_json::Value::Bool(true));
        }
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + HANG_GUARD;
        let client = rt.block_on(async {
            loop {
                match ClientBuilder::native()
                    .capabilities(caps.clone())
                    .connect(&url)
                    .await
                {
                    Ok(c) => break c,
                    Err(e) => {
                        assert!(
                            Instant::now() < deadline,
                            "chromedriver never answered: {e}"
                        );
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
        Browser {
            rt,
            client: Some(client),
            driver,
            base: base.trim_end_matches('/').to_string(),
        }
    }

    fn c(&self) -> &Client {
        self.client.as_ref().unwrap()
    }

    /// Opens `path` of the portal.
    pub fn open(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.rt.block_on(self.c().goto(&url)).unwrap();
    }

    /// Types `text` into the field with CSS selector `css` (after clearing it).
    pub fn fill(&self, css: &str, text: &str) {
        self.rt.block_on(async {
            let e = self.c().find(Locator::Css(css)).await.unwrap();
            e.clear().await.unwrap();
            e.send_keys(text).await.unwrap();
        });
    }

    /// Chooses the file at `path` in the file input with CSS selector `css`.
    pub fn choose_file(&self, css: &str, path: &std::path::Path) {
        self.rt.block_on(async {
            let e = self.c().find(Locator::Css(css)).await.unwrap();
            e.send_keys(&path.display().to_string()).await.unwrap();
        });
    }

    /// Clicks the element with CSS selector `css` (a submit button or a link) and waits
    /// until the next page has loaded: a mark left on the old page's window is gone and
    /// the new document is complete.
    pub fn click(&self, css: &str) {
        self.eval("window.__sbOldPage = true; return true;");
        self.rt.block_on(async {
            let e = self.c().find(Locator::Css(css)).await.unwrap();
            e.click().await.unwrap();
        });
        let deadline = Instant::now() + HANG_GUARD;
        loop {
            let loaded = self.eval(
                "return window.__sbOldPage === undefined && document.readyState === 'complete';",
            );
            if loaded == serde_json::Value::Bool(true) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no page loaded after clicking {css}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The page's HTML as the browser holds it now.
    pub fn source(&self) -> String {
        self.rt.block_on(self.c().source()).unwrap()
    }

    /// The path of the page shown.
    pub fn path(&self) -> String {
        let url = self.rt.block_on(self.c().current_url()).unwrap();
        url.path().to_string()
    }

    /// The text of the element with CSS selector `css`.
    pub fn text(&self, css: &str) -> String {
        self.rt.block_on(async {
            let e = self.c().find(Locator::Css(css)).await.unwrap();
            e.text().await.unwrap()
        })
    }

    /// Waits until the page's source contains `what` (re-opening nothing: for pages the
    /// script updates), up to the hang guard.
    pub fn wait_for_text(&self, what: &str) {
        let deadline = Instant::now() + HANG_GUARD;
        while !self.source().contains(what) {
            assert!(
                Instant::now() < deadline,
                "{what:?} never appeared:\n{}",
                self.source()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Evaluates `script` (a function body: `return ...;`) in the page.
    pub fn eval(&self, script: &str) -> serde_json::Value {
        self.rt
            .block_on(self.c().execute(script, Vec::new()))
            .unwrap()
    }

    /// Waits until `script` (a function body returning a boolean) returns true, up to the
    /// hang guard; `what` names the awaited event in the failure message.
    pub fn wait_for(&self, what: &str, script: &str) {
        let deadline = Instant::now() + HANG_GUARD;
        while self.eval(script) != serde_json::Value::Bool(true) {
            assert!(
                Instant::now() < deadline,
                "{what} never happened:\n{}",
                self.source()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Deletes every cookie (a new visitor).
    pub fn forget_cookies(&self) {
        self.rt.block_on(self.c().delete_all_cookies()).unwrap();
    }

    /// Writes a PNG screenshot of the page to `file`.
    pub fn screenshot(&self, file: &Path) {
        let png = self.rt.block_on(self.c().screenshot()).unwrap();
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(file, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            let _ = self.rt.block_on(c.close());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
