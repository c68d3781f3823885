//! The Python `kubernetes` client (the second real client) against `reddwarf serve`.

use std::process::Command;

use crate::support::{Server, python_with_kubernetes};

#[test]
fn python_client_lists_creates_gets_watches_and_deletes() {
    let Some(python) = python_with_kubernetes() else { return };
    let server = Server::start();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/client_crud.py");
    let output = Command::new(python).arg(script).env("KUBECONFIG", &server.kubeconfig).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.trim_end().ends_with("OK"),
        "python client failed:\nstdout:\n{stdout}\nstderr:\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&output.stderr),
        server.log()
    );
}
