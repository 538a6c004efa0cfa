//! The management endpoint: `mplamps show` writes one line naming what to show and reads
//! one line of JSON, built from the node's views.

use std::time::Duration;

use mplamps_node::Node;

use crate::dataplane::DataPlaneCounters;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

/// What a request names, and the JSON that answers it.
fn answer(
    node: &Node,
    dataplane: Option<&DataPlaneCounters>,
    now: Duration,
    request: &str,
) -> serde_json::Result<String> {
    let no_ldp = || serde_json::json!({ "error": "LDP does not run on this node" }).to_string();
    match request {
        "view" => serde_json::to_string(&node.view()),
        "ospf database" => serde_json::to_string(&node.ospf_database(now)),
        "routes regular" => serde_json::to_string(&node.route_rows(false)),
        "routes power" => serde_json::to_string(&node.route_rows(true)),
        "ldp bindings" => node
            .ldp()
            .map_or_else(|| Ok(no_ldp()), |l| serde_json::to_string(&l.bindings())),
        "ldp sessions" => node
            .view()
            .ldp
            .map_or_else(|| Ok(no_ldp()), |l| serde_json::to_string(&l.sessions)),
        "lfib" => serde_json::to_string(&node.lfib_rows()),
        "te database" => serde_json::to_string(&node.te_rows()),
        "lsps" => node.view().rsvp.map_or_else(
            || Ok(serde_json::json!({ "error": "RSVP-TE does not run on this node (the topology has no [[lsp]])" }).to_string()),
            |r| serde_json::to_string(&r),
        ),
        "dataplane" => dataplane.map_or_else(
            || Ok(serde_json::json!({ "error": "the node does not forward in user space (run it with --dataplane)" }).to_string()),
            serde_json::to_string,
        ),
        other => {
            Ok(serde_json::json!({ "error": format!("unknown request {other:?}") }).to_string())
        }
    }
}

/// Answers one request on `stream`.
pub async fn serve(
    node: &Node,
    dataplane: Option<DataPlaneCounters>,
    now: Duration,
    stream: UnixStream,
) {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    if BufReader::new(read).read_line(&mut line).await.is_err() {
        return;
    }
    let answer = answer(node, dataplane.as_ref(), now, line.trim())
        .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }).to_string());
    let _ = write.write_all(answer.as_bytes()).await;
    let _ = write.write_all(b"\n").await;
}
