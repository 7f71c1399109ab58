//! The OpenAPI 3.1 document of the API, built from the Rust types that parse and produce the
//! bodies, so that what the server enforces and what the document says cannot drift.
//!
//! Body schemas are derived with `schemars` from the wire types (the brief, the job view, the
//! error body, ...); the validators' limits reach the schemas through `#[schemars(...)]`
//! attributes that name the same constants (`brief::limits`). Bodies the Worker shell assembles
//! itself (list pages, `whoami`, the support view's extras) and the memory edit, whose parser is
//! hand-written, are described in [`shell`] next to the rule each line mirrors. The operations
//! (methods, parameters, status codes, security) are the small table in [`paths`].
//!
//! The Worker does not link this: `actors/assets/openapi.json` is generated from
//! [`document`] by the test `openapi_document` (which fails when the checked-in file differs),
//! and the Worker serves it from its static assets: the bundle carries neither.

mod paths;
mod shell;

use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::{JsonSchema, Schema};
use serde_json::{Map, Value, json};

use crate::api::ErrorBody;
use crate::brief::Brief;
use crate::job::{CreatorJobView, JobView, StatusEvent};
use crate::journal::Actor;
use crate::plan::StageShaping;

/// Where component schemas live, as `$ref` sees them
const COMPONENTS: &str = "/components/schemas";

/// Why a document could not be built (a type's schema names a component twice, differently)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenApiError {
    /// Requests and responses derive different schemas under one name
    #[error("component `{0}` differs between the request and the response schemas")]
    Conflict(String),
}

fn generator(deserialize: bool) -> SchemaGenerator {
    let settings = SchemaSettings::draft2020_12().with(|s| {
        s.definitions_path = COMPONENTS.into();
        s.meta_schema = None;
    });
    let settings = if deserialize {
        settings.for_deserialize()
    } else {
        settings.for_serialize()
    };
    settings.into_generator()
}

/// Derived component schemas: request bodies as serde reads them, responses as serde writes them
struct Components {
    requests: SchemaGenerator,
    responses: SchemaGenerator,
}

impl Components {
    fn request<T: JsonSchema>(&mut self) -> Schema {
        self.requests.subschema_for::<T>()
    }

    fn response<T: JsonSchema>(&mut self) -> Schema {
        self.responses.subschema_for::<T>()
    }

    fn into_schemas(mut self) -> Result<Map<String, Value>, OpenApiError> {
        let mut out = self.responses.take_definitions(true);
        for (name, schema) in self.requests.take_definitions(true) {
            match out.get(&name) {
                Some(existing) if *existing != schema => return Err(OpenApiError::Conflict(name)),
                Some(_) => {}
                None => {
                    out.insert(name, schema);
                }
            }
        }
        Ok(out)
    }
}

/// The whole document (`servers` and `x-routes` are the Worker's to fill in when serving it)
pub fn document() -> Result<Value, OpenApiError> {
    let mut c = Components {
        requests: generator(true),
        responses: generator(false),
    };
    // Referenced by name from `paths` and `shell`; deriving them registers every type they use.
    c.request::<Brief>();
    c.response::<JobView>();
    c.response::<CreatorJobView>();
    c.response::<ErrorBody>();
    c.response::<StatusEvent>();
    c.response::<Actor>();
    c.response::<StageShaping>();
    c.response::<crate::memory::looks_upload::LookImageStored>();
    c.response::<crate::memory::voice_samples::VoiceCloned>();
    c.request::<crate::routing::registry_doc::Publication>();
    c.response::<crate::routing::registry_doc::RegistryVersionRecord>();
    c.response::<crate::routing::registry_doc::RegistryHistory>();
    c.response::<crate::fleet::desk::FleetView>();
    c.response::<crate::job::Timeline>();
    let mut schemas = c.into_schemas()?;
    // What the validator checks across fields, which JSON Schema cannot say
    if let Some(Value::Object(brief)) = schemas.get_mut("Brief") {
        brief.insert("description".into(), BRIEF_BEYOND_SCHEMA.into());
    }
    for (name, schema) in shell::schemas() {
        schemas.insert(name.to_owned(), schema);
    }
    let tags: Vec<Value> = ["app", "support", "memory", "providers", "media", "ops"]
        .iter()
        .map(|name| json!({ "name": name }))
        .collect();
    Ok(json!({
        "openapi": "3.1.0",
        "info": {
            "title": "CreatorStudio render orchestration",
            "version": "1.0.0",
            "description": "Three surfaces: the app (`/v1/renders`, app keys bound to one creator), providers (`/v1/callbacks`), support (`/v1/support`, support keys). Errors are `{\"error\": {code, message, field}}`. Every keyed request counts against its key's rate limit (429 with Retry-After). Request body schemas are as strict as the server: what they call valid is accepted, except for what JSON Schema cannot say, which each schema's description states (for a brief: cast references, unique ids, the keyframe prompt's length)."
        },
        "servers": [{ "url": "http://127.0.0.1:8787" }],
        "security": [{ "bearer": [] }],
        "tags": tags,
        "paths": paths::paths(),
        "webhooks": paths::webhooks(),
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "API key: app keys (`sk_...`, one creator) or support keys"
                }
            },
            "schemas": schemas,
            "responses": paths::responses(),
            "parameters": paths::parameters(),
        }
    }))
}

/// The brief's description: the rules `validate_brief` enforces across fields
const BRIEF_BEYOND_SCHEMA: &str = "A Director Brief; validated in full, a 400 names the first bad field (e.g. `shots[3].duration_s`). Besides this schema: shot ids and cast ids are unique, every `shots[].cast` entry and `dialogue.character` is a cast id, each shot's keyframe prompt (its prompt, then `. name: description` per cast member in it) is at most 4000 characters, and the plan's text in all at most 2,000,000. `pacing` may be left out only when `format` names a format of the creator's Memory Graph (else a 400 naming `pacing`).";

/// `{"$ref": "#/components/schemas/{name}"}`
fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#{COMPONENTS}/{name}") })
}

/// The document as the checked-in file holds it: pretty JSON with a final newline
pub fn document_text() -> Result<String, OpenApiError> {
    let doc = document()?;
    // Serializing a `Value` cannot fail; an empty string would fail the drift test loudly.
    Ok(serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n")
}
