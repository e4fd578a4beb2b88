//! Templates (minijinja, compiled into the binary from `templates/`) and the page frame
//! every template shares: language, navigation, the CSRF token, who is logged in.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use minijinja::value::Value;
use minijinja::{Environment, State};
use serde::Serialize;

use crate::i18n::Lang;
use crate::session::{Principal, Session};

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("login.html", include_str!("../templates/login.html")),
    ("message.html", include_str!("../templates/message.html")),
    ("confirm.html", include_str!("../templates/confirm.html")),
    (
        "dashboard.html",
        include_str!("../templates/dashboard.html"),
    ),
    ("domains.html", include_str!("../templates/domains.html")),
    ("users.html", include_str!("../templates/users.html")),
    ("user.html", include_str!("../templates/user.html")),
    ("aliases.html", include_str!("../templates/aliases.html")),
    ("online.html", include_str!("../templates/online.html")),
    ("audit.html", include_str!("../templates/audit.html")),
    ("me.html", include_str!("../templates/me.html")),
    ("devices.html", include_str!("../templates/devices.html")),
    (
        "lists_form.html",
        include_str!("../templates/lists_form.html"),
    ),
    (
        "forwarding_form.html",
        include_str!("../templates/forwarding_form.html"),
    ),
    ("calls.html", include_str!("../templates/calls.html")),
    ("dial.html", include_str!("../templates/dial.html")),
    (
        "dial_progress.html",
        include_str!("../templates/dial_progress.html"),
    ),
    (
        "voicemail.html",
        include_str!("../templates/voicemail.html"),
    ),
    (
        "import_job.html",
        include_str!("../templates/import_job.html"),
    ),
    ("fields.html", include_str!("../templates/fields.html")),
    ("gateways.html", include_str!("../templates/gateways.html")),
    (
        "gateway_edit.html",
        include_str!("../templates/gateway_edit.html"),
    ),
    ("routes.html", include_str!("../templates/routes.html")),
    ("dialplan.html", include_str!("../templates/dialplan.html")),
    ("trusted.html", include_str!("../templates/trusted.html")),
    ("classes.html", include_str!("../templates/classes.html")),
];

/// The template set.
pub struct Templates {
    env: Environment<'static>,
}

/// `t("key")` in a template: the text in the page's language.
fn translate(state: &State, key: &str) -> String {
    let lang = state
        .lookup("lang")
        .and_then(|v| v.as_str().and_then(Lang::parse))
        .unwrap_or(Lang::En);
    lang.text(key).to_string()
}

impl Templates {
    /// Loads every template (a syntax error is a bug caught by the crate's tests).
    pub fn new() -> Result<Self, minijinja::Error> {
        let mut env = Environment::new();
        for (name, src) in TEMPLATES {
            env.add_template(name, src)?;
        }
        env.add_function("t", translate);
        Ok(Self { env })
    }

    /// Renders `name` with the frame and the page's own values.
    pub fn page(&self, frame: &Frame, name: &str, values: Value) -> Response {
        self.page_with_status(StatusCode::OK, frame, name, values)
    }

    /// Renders with a status (400 for a form with errors, 404, ...).
    pub fn page_with_status(
        &self,
        status: StatusCode,
        frame: &Frame,
        name: &str,
        values: Value,
    ) -> Response {
        let ctx = minijinja::context! { ..Value::from_serialize(frame), ..values };
        match self.env.get_template(name).and_then(|t| t.render(ctx)) {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!(template = name, error = %e, "portal template failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
            }
        }
    }

    /// A page with a heading and a sentence (errors: 403, 404, ...).
    pub fn message(
        &self,
        status: StatusCode,
        frame: &Frame,
        heading: &str,
        message: &str,
    ) -> Response {
        self.page_with_status(
            status,
            frame,
            "message.html",
            minijinja::context! { heading, message },
        )
    }
}

/// One entry of the navigation bar.
#[derive(Debug, Clone, Serialize)]
pub struct NavItem {
    href: &'static str,
    key: &'static str,
    current: bool,
}

/// What every page shows around its content.
#[derive(Debug, Clone, Serialize)]
pub struct Frame {
    /// The language code.
    pub lang: &'static str,
    /// The navigation bar (empty when logged out).
    pub nav: Vec<NavItem>,
    /// The session's CSRF token (the login form's own token when logged out).
    pub csrf: String,
    /// Who is logged in.
    pub who: Option<String>,
    /// A one-line confirmation (after a redirect).
    pub notice: Option<String>,
}

impl Frame {
    /// The frame for `session` (or none) in `lang`, with `path` marked current.
    pub fn new(lang: Lang, session: Option<&Session>, path: &str) -> Self {
        let nav = match session.map(|s| &s.who) {
            Some(p @ Principal::Staff { .. }) => {
                let mut items = vec![
                    ("/dashboard", "dashboard"),
                    ("/domains", "domains"),
                    ("/users", "users"),
                    ("/aliases", "aliases"),
                    ("/online", "online"),
                    ("/calls", "calls"),
                ];
                if p.is_admin() {
                    items.extend([
                        ("/gateways", "gateways"),
                        ("/routes", "routes"),
                        ("/dialplan", "dialplan"),
                        ("/trusted", "trusted"),
                        ("/classes", "classes"),
                        ("/audit", "audit"),
                    ]);
                } else {
                    items.push(("/dialplan", "dialplan"));
                }
                items
            }
            Some(Principal::User(_)) => vec![
                ("/me", "me"),
                ("/me/calls", "my_calls"),
                ("/me/dial", "dial"),
                ("/me/voicemail", "voicemail"),
            ],
            None => Vec::new(),
        };
        Self {
            lang: lang.code(),
            nav: nav
                .into_iter()
                .map(|(href, key)| NavItem {
                    href,
                    key,
                    current: path == href
                        || (href != "/me" && path.starts_with(&format!("{href}/"))),
                })
                .collect(),
            csrf: session.map(|s| s.csrf.clone()).unwrap_or_default(),
            who: session.map(|s| s.who.actor()),
            notice: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles_and_escapes() {
        let t = Templates::new().unwrap();
        let frame = Frame::new(Lang::Zh, None, "/login");
        let r = t.page(
            &frame,
            "login.html",
            minijinja::context! { name => "<script>x</script>", error => "" },
        );
        assert_eq!(r.status(), StatusCode::OK);
    }

    #[test]
    fn the_pstn_pages_render_with_errors_next_to_their_fields() {
        let t = Templates::new().unwrap();
        let frame = Frame::new(Lang::En, None, "/gateways");
        let errors = std::collections::HashMap::from([("address", "not IP:PORT <b>")]);
        let form = std::collections::HashMap::from([("name", "gw"), ("transport", "tcp")]);
        for (page, extra) in [
            (
                "gateways.html",
                minijinja::context! { gateways => Vec::<u8>::new(), server_answered => false, transports => ["udp", "tcp"] },
            ),
            (
                "routes.html",
                minijinja::context! { routes => Vec::<u8>::new(), gateways => ["a"], classes => ["local"] },
            ),
            (
                "trusted.html",
                minijinja::context! { peers => vec![("10.0.0.0/8", "")] },
            ),
            (
                "classes.html",
                minijinja::context! { classes => Vec::<u8>::new(), names => ["local"], saved => "x" },
            ),
            (
                "dialplan.html",
                minijinja::context! { rules => Vec::<u8>::new(), test => form.clone(), result => minijinja::context! { out => "+49", steps => Vec::<u8>::new() }, number => "0" },
            ),
        ] {
            let r = t.page(
                &frame,
                page,
                minijinja::context! { form => form.clone(), errors => errors.clone(), ..extra },
            );
            assert_eq!(r.status(), StatusCode::OK, "{page}");
        }
        let html = t
            .env
            .get_template("gateways.html")
            .unwrap()
            .render(minijinja::context! { lang => "en", form, errors, transports => ["udp", "tcp"], gateways => Vec::<u8>::new() })
            .unwrap();
        assert!(
            html.contains("id=\"address-error\">not IP:PORT &lt;b&gt;</p>"),
            "{html}"
        );
        assert!(html.contains("<option value=\"tcp\" selected>"), "{html}");
    }
}
