//! The dashboard at `/`: one HTML page, its script and style, and Chart.js (vendored, MIT,
//! crates/freight-server/assets/vendor), all built into the binary; nothing is fetched from
//! elsewhere at run time. Its figures come from the API with the caller's token.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

const INDEX: &str = include_str!("../assets/index.html");

/// Name, content type and bytes of each asset.
const ASSETS: [(&str, &str, &str); 3] = [
    ("app.js", "text/javascript; charset=utf-8", include_str!("../assets/app.js")),
    ("style.css", "text/css; charset=utf-8", include_str!("../assets/style.css")),
    ("chart.umd.min.js", "text/javascript; charset=utf-8", include_str!("../assets/vendor/chart.umd.min.js")),
];

/// `GET /`.
pub async fn index() -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], INDEX).into_response()
}

/// `GET /assets/{name}`.
pub async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(asset, ..)| *asset == name) {
        Some((_, content_type, body)) => {
            ([(header::CONTENT_TYPE, *content_type), (header::CACHE_CONTROL, "max-age=3600")], *body).into_response()
        }
        None => (StatusCode::NOT_FOUND, format!("no asset {name}\n")).into_response(),
    }
}
