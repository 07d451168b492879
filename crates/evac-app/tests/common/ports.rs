//! Ports for the real servers the tests start (chromedriver, Kannel's boxes, OpenSMTPD,
//! Dovecot), shared by the test binaries of several crates through `#[path]`.

/// A port nothing listens on, never one this test binary handed out before: the operating
/// system may give a port it just freed again, and a second server on a taken port fails
/// ("bind failed: Address already in use") or, worse, leaves the first one answering in its
/// place. Bound on every interface, as some of those servers bind.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap();
    loop {
        let port = std::net::TcpListener::bind("0.0.0.0:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}
