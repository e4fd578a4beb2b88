//! The one script and the one style sheet, compiled in (the CSP allows only our files).

use axum::http::header;
use axum::response::IntoResponse;

/// `/static/portal.js`.
pub async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("../../static/portal.js"),
    )
}

/// `/static/portal.css`.
pub async fn style() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("../../static/portal.css"),
    )
}
