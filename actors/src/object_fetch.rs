//! A Durable Object called over fetch at the runtime's own types, for the hot internal calls.
//!
//! workers-rs's `Stub::fetch_with_request` wraps the answer in its `Response`, which reads the
//! answer's `cf` and then reads its body through a stream reader chunk by chunk; a provider
//! callback's call into its job object spent more CPU there than in the job's step. Here the
//! request goes out as built and the answer is read with one `text()`.

use worker::js_sys::Promise;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{Method, Response, Result, Stub, web_sys, worker_sys};

/// Sends `method url` (with `headers` and `body`) to the object and answers its status and
/// body text
pub(crate) async fn text(
    stub: Stub,
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<String>,
) -> Result<(u16, String)> {
    let init = web_sys::RequestInit::new();
    init.set_method(method.as_ref());
    if !headers.is_empty() {
        let list = web_sys::Headers::new()?;
        for (name, value) in headers {
            list.set(name, value)?;
        }
        init.set_headers(&list);
    }
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(&body));
    }
    let request = web_sys::Request::new_with_str_and_init(url, &init)?;
    let object: worker_sys::DurableObject = stub.into_rpc();
    let answer: web_sys::Response = JsFuture::from(object.fetch_with_request(&request)?)
        .await?
        .dyn_into()?;
    let status = answer.status();
    Ok((status, read_text(answer.text()?).await?))
}

/// The whole body of a response already wrapped by workers-rs (a relayed answer whose headers
/// were read first), read with one `text()` rather than chunk by chunk
pub(crate) async fn response_text(response: &Response) -> Result<String> {
    read_text(web_sys::Response::from(response).text()?).await
}

/// The whole body of a fetched response as bytes, with one `arrayBuffer()` (the caller has
/// bounded its length)
pub(crate) async fn response_bytes(response: &Response) -> Result<Vec<u8>> {
    let buffer = JsFuture::from(web_sys::Response::from(response).array_buffer()?).await?;
    Ok(worker::js_sys::Uint8Array::new(&buffer).to_vec())
}

async fn read_text(promise: Promise) -> Result<String> {
    JsFuture::from(promise)
        .await?
        .as_string()
        .ok_or_else(|| worker::Error::RustError("a body's text is not a string".into()))
}
