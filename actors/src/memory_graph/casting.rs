//! The graph object's routes for cast looks and voices:
//!
//! | route | body | answer |
//! |---|---|---|
//! | `POST /looks/{cast}/images` | `{"key"}` (an upload the Worker stored) | `{"added": bool, "look"}`; 422 over the limits |
//! | `POST /looks/lookup` | `{"ids": [...]}` | `{"looks": {cast id: {description, reference_images}}}` |
//! | `POST /context?cast_voices=1[&last=1]` | a brief | the context, after casting voices (below) |
//!
//! Voice casting happens only for a render job's context: the speakers the graph has no voice
//! for are cast from the provider's library (`studio::memory::voice_cast`), fetched here, and
//! the chosen voices are written in the same synchronous step as the choice. When the library
//! cannot be read, the answer is a 503 so the job asks again on its deadline, except on its
//! last ask (`last=1`), which plans with those speakers uncast rather than not at all.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::{LocalBoxFuture, Shared};

use serde::Deserialize;
use serde_json::json;
use studio::brief::Brief;
use studio::memory::CastLook;
use studio::memory::looks_upload::{Added, add_reference_image};
use studio::memory::voice_cast::{Casting, cast_voices, library_unavailable, speakers_to_cast};
use studio::providers::ProviderKind;
use studio::providers::elevenlabs_voices::{LibraryVoice, library_request, parse_library};
use worker::Request;

use super::{Failure, MemoryGraph, Served, header_creator, ok_json};
use crate::{clock, config, object_sql, outbound};
use studio::time::{Millis, Timestamp};

/// How long the library may take: a context is waited for 30 s in all
const LIBRARY_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest list of cast ids one lookup takes (a brief's cast is at most 32)
const MAX_LOOKUP_IDS: usize = 64;

/// Whether a context request asks for casting, and whether it is the job's last ask
pub(super) struct CastOptions {
    pub cast_voices: bool,
    pub last: bool,
}

impl CastOptions {
    pub(super) fn of(req: &Request) -> Self {
        let pairs: Vec<(String, String)> = req
            .url()
            .map(|u| {
                u.query_pairs()
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let on = |name: &str| pairs.iter().any(|(k, v)| k == name && v == "1");
        Self {
            cast_voices: on("cast_voices"),
            last: on("last"),
        }
    }
}

/// How long a fetched library is reused: casting needs a current list, not a live one, and a
/// creator starting 90 renders at once must not ask the provider 90 times
const LIBRARY_REUSE: Millis = Millis::from_secs(60);

/// A library fetch every concurrent context request of this object awaits
type LibraryFetch = Shared<LocalBoxFuture<'static, Result<Rc<Vec<LibraryVoice>>, String>>>;

/// The voice library as this object last fetched it, and the fetch under way: one at a time
/// (concurrent requests share it), reused for [`LIBRARY_REUSE`]
#[derive(Default)]
pub(super) struct LibraryCache {
    fetched: Option<(Timestamp, Rc<Vec<LibraryVoice>>)>,
    in_flight: Option<LibraryFetch>,
}

/// The account's voice library
async fn library(env: worker::Env) -> Result<Rc<Vec<LibraryVoice>>, String> {
    let cfg = config::provider(&env, ProviderKind::ElevenLabs).map_err(|e| e.to_string())?;
    let resp = outbound::send(&library_request(&cfg), LIBRARY_TIMEOUT)
        .await
        .map_err(|e| e.to_string())?;
    parse_library(&resp).map(Rc::new).map_err(|e| e.to_string())
}

impl MemoryGraph {
    /// Casts a voice for every speaker of `brief` the graph has none for, and records it
    pub(super) async fn cast_for_job(
        &self,
        brief: &Brief,
        options: &CastOptions,
    ) -> Result<Vec<Casting>, Failure> {
        let speakers = match self.graph.borrow().as_ref() {
            Some(g) => speakers_to_cast(g, brief),
            None => return Err(Failure::NotFound("the graph is not loaded".into())),
        };
        if speakers.is_empty() {
            return Ok(Vec::new());
        }
        let library = match self.shared_library().await {
            Ok(voices) => voices,
            Err(e) if options.last => {
                worker::console_error!("voice library: {e}; the speakers stay uncast");
                return Ok(library_unavailable(&speakers));
            }
            Err(e) => return Err(Failure::Unavailable(format!("voice library: {e}"))),
        };
        // The graph may have changed while the library was fetched (another render cast the
        // same character): the speakers are read again in the step that writes.
        self.ensure_loaded(None)?;
        self.change(|g| {
            let speakers = speakers_to_cast(g, brief);
            cast_voices(g, &speakers, &library)
        })
    }

    /// The library: reused while fresh, else the fetch under way, else a new one
    async fn shared_library(&self) -> Result<Rc<Vec<LibraryVoice>>, String> {
        let now = clock::now();
        let fetch = {
            let mut cache = self.library.borrow_mut();
            if let Some((at, voices)) = &cache.fetched
                && now.since(*at) < LIBRARY_REUSE
            {
                return Ok(Rc::clone(voices));
            }
            match &cache.in_flight {
                Some(fetch) => fetch.clone(),
                None => {
                    let fetch = library(self.env.clone()).boxed_local().shared();
                    cache.in_flight = Some(fetch.clone());
                    fetch
                }
            }
        };
        let result = fetch.await;
        let mut cache = self.library.borrow_mut();
        cache.in_flight = None;
        if let Ok(voices) = &result {
            cache.fetched = Some((clock::now(), Rc::clone(voices)));
        }
        result
    }

    /// `POST /looks/{cast}/images`: records an uploaded reference image in the look
    pub(super) async fn add_look_image(&self, mut req: Request, cast: &str) -> Served {
        #[derive(Deserialize)]
        struct Body {
            key: String,
        }
        let body: Body = object_sql::read_json(&mut req)
            .await
            .map_err(|e| Failure::BadRequest(e.to_string()))?;
        self.ensure_loaded(header_creator(&req).as_ref())?;
        let added = self.change(|g| add_reference_image(g, cast, &body.key))?;
        let slot = self.graph.borrow();
        let look = slot
            .as_ref()
            .and_then(|g| g.looks.iter().find(|l| l.cast_id == cast));
        ok_json(&json!({ "added": added == Added::Added, "look": look }))
    }

    /// `POST /looks/lookup`: the looks of some cast ids (those the graph has)
    pub(super) async fn looks_for(&self, mut req: Request) -> Served {
        #[derive(Deserialize)]
        struct Body {
            ids: Vec<String>,
        }
        let body: Body = object_sql::read_json(&mut req)
            .await
            .map_err(|e| Failure::BadRequest(e.to_string()))?;
        if body.ids.len() > MAX_LOOKUP_IDS {
            return Err(Failure::BadRequest(format!(
                "at most {MAX_LOOKUP_IDS} ids per lookup"
            )));
        }
        self.ensure_loaded(header_creator(&req).as_ref())?;
        let slot = self.graph.borrow();
        let looks: BTreeMap<&str, CastLook> = slot
            .as_ref()
            .map(|g| {
                g.looks
                    .iter()
                    .filter(|l| body.ids.contains(&l.cast_id))
                    .map(|l| {
                        let look = CastLook {
                            description: l.description.clone(),
                            reference_images: l.reference_images.clone(),
                        };
                        (l.cast_id.as_str(), look)
                    })
                    .collect()
            })
            .unwrap_or_default();
        ok_json(&json!({ "looks": looks }))
    }
}
