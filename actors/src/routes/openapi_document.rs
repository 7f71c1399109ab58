//! The OpenAPI 3.1 document served at `GET /openapi.json`, as JSON in a raw string: a `.rs`
//! file, so that editing it rebuilds the Worker (`make worker` tracks the Rust sources).
//! The e2e test `openapi` holds it to the route table and to real responses.

/// The document (`servers` and `x-routes` are filled in when it is served)
pub(crate) const DOCUMENT: &str = r##"
{
 "openapi": "3.1.0",
 "info": {
  "title": "CreatorStudio render orchestration",
  "version": "1.0.0",
  "description": "Three surfaces: the app (`/v1/renders`, app keys bound to one creator), providers (`/v1/callbacks`), support (`/v1/support`, support keys). Errors are `{\"error\": {code, message, field}}`. Every keyed request counts against its key's rate limit (429 with Retry-After)."
 },
 "servers": [
  {
   "url": "http://127.0.0.1:8787"
  }
 ],
 "security": [
  {
   "bearer": []
  }
 ],
 "tags": [
  {
   "name": "app"
  },
  {
   "name": "support"
  },
  {
   "name": "memory"
  },
  {
   "name": "providers"
  },
  {
   "name": "media"
  },
  {
   "name": "ops"
  }
 ],
 "paths": {
  "/healthz": {
   "get": {
    "operationId": "health",
    "summary": "Whether each binding answers",
    "tags": [
     "ops"
    ],
    "responses": {
     "200": {
      "description": "Every binding answered",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Health"
        }
       }
      }
     },
     "503": {
      "description": "A binding failed",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Health"
        }
       }
      }
     }
    },
    "security": []
   }
  },
  "/openapi.json": {
   "get": {
    "operationId": "openapi",
    "summary": "This document",
    "tags": [
     "ops"
    ],
    "responses": {
     "200": {
      "description": "OpenAPI 3.1 document; `x-routes` lists the Worker's route table",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Object"
        }
       }
      }
     }
    },
    "security": []
   }
  },
  "/v1/whoami": {
   "get": {
    "operationId": "whoami",
    "summary": "The key's role and creator",
    "tags": [
     "app"
    ],
    "responses": {
     "200": {
      "description": "The caller",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Whoami"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "429": {
      "$ref": "#/components/responses/RateLimited"
     }
    }
   }
  },
  "/v1/renders": {
   "post": {
    "operationId": "createRender",
    "summary": "Create a render from a brief",
    "tags": [
     "app"
    ],
    "responses": {
     "202": {
      "description": "Accepted; the job view",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/JobView"
        }
       }
      },
      "headers": {
       "Location": {
        "schema": {
         "type": "string"
        },
        "description": "/v1/renders/{id}"
       },
       "Idempotent-Replayed": {
        "schema": {
         "type": "string"
        },
        "description": "`true` when an earlier request with this Idempotency-Key made the job"
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "429": {
      "$ref": "#/components/responses/RateLimited"
     },
     "409": {
      "$ref": "#/components/responses/Conflict"
     },
     "413": {
      "$ref": "#/components/responses/TooLarge"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     }
    },
    "description": "Refused with 503 before anything is written or submitted when no assembly route (our assembler, or a hosted one) is configured and reachable, so a render never spends its budget without a way to finish. Idempotent with `Idempotency-Key` (1-255 chars): within 24 hours (`IDEMPOTENCY_TTL_S`) of its first use, every request with the key gets the same job (concurrent ones too); the same key with another body is 409. After 24 hours the key starts a new job.",
    "parameters": [
     {
      "name": "Idempotency-Key",
      "in": "header",
      "required": false,
      "schema": {
       "type": "string",
       "minLength": 1,
       "maxLength": 255
      }
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/Brief"
       }
      }
     }
    }
   },
   "get": {
    "operationId": "listRenders",
    "summary": "The creator's renders, newest first",
    "tags": [
     "app"
    ],
    "responses": {
     "200": {
      "description": "A page",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/RenderList"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "429": {
      "$ref": "#/components/responses/RateLimited"
     }
    },
    "parameters": [
     {
      "name": "project",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "only this project"
     },
     {
      "name": "status",
      "in": "query",
      "required": false,
      "schema": {
       "$ref": "#/components/schemas/JobStatus"
      },
      "description": "only this status"
     },
     {
      "name": "limit",
      "in": "query",
      "required": false,
      "schema": {
       "type": "integer",
       "minimum": 1,
       "maximum": 100,
       "default": 20
      },
      "description": "page size"
     },
     {
      "name": "cursor",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "`next_cursor` of the previous page (stable for equal timestamps)"
     }
    ]
   }
  },
  "/v1/renders/{id}": {
   "get": {
    "operationId": "getRender",
    "summary": "A render; ETag, and long-poll with `wait`",
    "tags": [
     "app"
    ],
    "responses": {
     "200": {
      "description": "The view, with an ETag",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/JobView"
        }
       }
      },
      "headers": {
       "ETag": {
        "schema": {
         "type": "string"
        }
       }
      }
     },
     "304": {
      "description": "Unchanged since `If-None-Match` (after `wait` seconds when asked to wait)",
      "headers": {
       "ETag": {
        "schema": {
         "type": "string"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "429": {
      "$ref": "#/components/responses/RateLimited"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     }
    },
    "description": "With `wait=N` (N <= 60) the job object holds the request until the job changes or N seconds pass; an `If-None-Match` that no longer matches answers at once.",
    "parameters": [
     {
      "$ref": "#/components/parameters/RenderId"
     },
     {
      "name": "wait",
      "in": "query",
      "required": false,
      "schema": {
       "type": "integer",
       "minimum": 0,
       "maximum": 60
      },
      "description": "seconds to wait for a change"
     },
     {
      "name": "If-None-Match",
      "in": "header",
      "required": false,
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/v1/renders/{id}/cancel": {
   "post": {
    "operationId": "cancelRender",
    "summary": "Cancel a render",
    "tags": [
     "app"
    ],
    "responses": {
     "200": {
      "description": "The job view",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/JobView"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "429": {
      "$ref": "#/components/responses/RateLimited"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "409": {
      "$ref": "#/components/responses/Conflict"
     }
    },
    "parameters": [
     {
      "$ref": "#/components/parameters/RenderId"
     }
    ]
   }
  },
  "/v1/renders/{id}/events": {
   "get": {
    "operationId": "renderEvents",
    "summary": "Server-Sent Events of a render",
    "tags": [
     "app"
    ],
    "responses": {
     "200": {
      "description": "`text/event-stream`: `event: snapshot` first (SnapshotEvent), then `event: stage` (StageEvent) per stage change and `event: status` (StatusChange) per status change; `id` is the journal sequence. The stream ends when the job reaches a terminal status. `: keepalive` comments every 15 s.",
      "content": {
       "text/event-stream": {
        "schema": {
         "type": "string"
        },
        "x-events": {
         "snapshot": {
          "$ref": "#/components/schemas/SnapshotEvent"
         },
         "stage": {
          "$ref": "#/components/schemas/StageEvent"
         },
         "status": {
          "$ref": "#/components/schemas/StatusChange"
         }
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "429": {
      "$ref": "#/components/responses/RateLimited"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     }
    },
    "parameters": [
     {
      "$ref": "#/components/parameters/RenderId"
     }
    ]
   }
  },
  "/v1/renders/{id}/outcomes": {
   "post": {
    "operationId": "reportOutcomes",
    "summary": "Report outcome figures of a succeeded render to the memory graph",
    "tags": [
     "memory"
    ],
    "responses": {
     "200": {
      "description": "The memory graph's answer",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Object"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "429": {
      "$ref": "#/components/responses/RateLimited"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "409": {
      "$ref": "#/components/responses/Conflict"
     }
    },
    "parameters": [
     {
      "$ref": "#/components/parameters/RenderId"
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/Object"
       }
      }
     },
     "description": "outcome figures (retention, clicks, conversions, ...)"
    }
   }
  },
  "/v1/memory": {
   "get": {
    "operationId": "getMemory",
    "summary": "The creator's memory graph",
    "tags": [
     "memory"
    ],
    "responses": {
     "200": {
      "description": "The graph",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Object"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "429": {
      "$ref": "#/components/responses/RateLimited"
     }
    }
   },
   "put": {
    "operationId": "editMemory",
    "summary": "Edit the creator's memory graph",
    "tags": [
     "memory"
    ],
    "responses": {
     "200": {
      "description": "The graph after the edit",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Object"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "429": {
      "$ref": "#/components/responses/RateLimited"
     },
     "413": {
      "$ref": "#/components/responses/TooLarge"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/Object"
       }
      }
     },
     "description": "an edit (looks, voices, ...)"
    }
   }
  },
  "/v1/memory/context": {
   "post": {
    "operationId": "memoryContext",
    "summary": "The context the memory graph gives a brief",
    "tags": [
     "memory"
    ],
    "responses": {
     "200": {
      "description": "The context a render of this brief would be planned with",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Object"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "429": {
      "$ref": "#/components/responses/RateLimited"
     },
     "413": {
      "$ref": "#/components/responses/TooLarge"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/Brief"
       }
      }
     }
    }
   }
  },
  "/v1/webhooks/secret": {
   "get": {
    "operationId": "webhookSecret",
    "summary": "The creator's webhook signing secret",
    "tags": [
     "app"
    ],
    "responses": {
     "200": {
      "description": "The `whsec_` secret (minted on first use)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/WebhookSecret"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "429": {
      "$ref": "#/components/responses/RateLimited"
     }
    }
   }
  },
  "/v1/support/renders": {
   "get": {
    "operationId": "searchRenders",
    "summary": "Search every creator's renders",
    "tags": [
     "support"
    ],
    "responses": {
     "200": {
      "description": "A page, newest first",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/SupportRenderList"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "429": {
      "$ref": "#/components/responses/RateLimited"
     }
    },
    "parameters": [
     {
      "name": "creator",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "only this creator"
     },
     {
      "name": "status",
      "in": "query",
      "required": false,
      "schema": {
       "$ref": "#/components/schemas/JobStatus"
      },
      "description": "only this status"
     },
     {
      "name": "provider",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "enum": [
        "veo",
        "sora",
        "kling",
        "runway",
        "fal",
        "luma",
        "seedance",
        "hailuo",
        "bfl",
        "elevenlabs",
        "minimax_music",
        "replicate",
        "assembler",
        "shotstack"
       ]
      },
      "description": "renders with a task at, or a cost line for, this provider"
     },
     {
      "name": "since",
      "in": "query",
      "required": false,
      "schema": {
       "type": "integer",
       "minimum": 0
      },
      "description": "created at or after (ms since epoch)"
     },
     {
      "name": "until",
      "in": "query",
      "required": false,
      "schema": {
       "type": "integer",
       "minimum": 0
      },
      "description": "created before (ms since epoch)"
     },
     {
      "name": "limit",
      "in": "query",
      "required": false,
      "schema": {
       "type": "integer",
       "minimum": 1,
       "maximum": 200,
       "default": 50
      },
      "description": "page size"
     },
     {
      "name": "cursor",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "`next_cursor` of the previous page"
     }
    ]
   }
  },
  "/v1/support/renders/{id}": {
   "get": {
    "operationId": "supportRender",
    "summary": "Everything about any creator's render",
    "tags": [
     "support"
    ],
    "responses": {
     "200": {
      "description": "The support view",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/SupportView"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "429": {
      "$ref": "#/components/responses/RateLimited"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     }
    },
    "parameters": [
     {
      "$ref": "#/components/parameters/RenderId"
     }
    ]
   }
  },
  "/v1/support/renders/{id}/journal": {
   "get": {
    "operationId": "supportJournal",
    "summary": "The render's journal, a page at a time",
    "tags": [
     "support"
    ],
    "responses": {
     "200": {
      "description": "Entries after `after`",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/JournalPage"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "429": {
      "$ref": "#/components/responses/RateLimited"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     }
    },
    "parameters": [
     {
      "$ref": "#/components/parameters/RenderId"
     },
     {
      "name": "after",
      "in": "query",
      "required": false,
      "schema": {
       "type": "integer",
       "minimum": 0,
       "default": 0
      },
      "description": "the last seq already read"
     },
     {
      "name": "limit",
      "in": "query",
      "required": false,
      "schema": {
       "type": "integer",
       "minimum": 1,
       "maximum": 500,
       "default": 100
      },
      "description": "page size"
     }
    ]
   }
  },
  "/v1/support/renders/{id}/actions": {
   "post": {
    "operationId": "supportAction",
    "summary": "Act on a render (admin support keys)",
    "tags": [
     "support"
    ],
    "responses": {
     "200": {
      "description": "Accepted; the support view after it",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/SupportView"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "429": {
      "$ref": "#/components/responses/RateLimited"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "409": {
      "$ref": "#/components/responses/Conflict"
     },
     "413": {
      "$ref": "#/components/responses/TooLarge"
     }
    },
    "description": "`retry_stage {stage}`, `reroute {stage, model}`, `pause`, `resume`, `cancel`, `restart_from {stage}`, each with a required `reason`; journaled with the key's prefix. A read-only support key gets 403; an action the job refuses is 409 with the reason; an unknown stage or model is 400 naming it.",
    "parameters": [
     {
      "$ref": "#/components/parameters/RenderId"
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/SupportActionRequest"
       }
      }
     }
    }
   }
  },
  "/v1/callbacks/{provider}": {
   "post": {
    "operationId": "providerWebhook",
    "summary": "A provider's project-level webhook (Sora, Replicate: Standard Webhooks)",
    "tags": [
     "providers"
    ],
    "responses": {
     "200": {
      "description": "Accepted (duplicates and stale deliveries too)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Accepted"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     }
    },
    "parameters": [
     {
      "name": "provider",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string",
       "enum": [
        "veo",
        "sora",
        "kling",
        "runway",
        "fal",
        "luma",
        "seedance",
        "hailuo",
        "bfl",
        "elevenlabs",
        "minimax_music",
        "replicate",
        "assembler",
        "shotstack"
       ]
      }
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/Object"
       }
      }
     },
     "description": "the provider's own callback body"
    },
    "security": []
   }
  },
  "/v1/callbacks/{provider}/{job}/{stage}/{attempt}": {
   "post": {
    "operationId": "providerCallback",
    "summary": "A provider's callback for one attempt",
    "tags": [
     "providers"
    ],
    "responses": {
     "200": {
      "description": "Accepted (duplicates and stale deliveries too)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Accepted"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     }
    },
    "description": "The URL carries our HMAC token (`exp`, `token`) bound to job, stage and attempt; the provider's own signature is verified too.",
    "parameters": [
     {
      "name": "provider",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string",
       "enum": [
        "veo",
        "sora",
        "kling",
        "runway",
        "fal",
        "luma",
        "seedance",
        "hailuo",
        "bfl",
        "elevenlabs",
        "minimax_music",
        "replicate",
        "assembler",
        "shotstack"
       ]
      }
     },
     {
      "name": "job",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "stage",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "attempt",
      "in": "path",
      "required": true,
      "schema": {
       "type": "integer"
      }
     },
     {
      "name": "exp",
      "in": "query",
      "required": true,
      "schema": {
       "type": "integer"
      },
      "description": "token expiry (ms since epoch)"
     },
     {
      "name": "token",
      "in": "query",
      "required": true,
      "schema": {
       "type": "string"
      },
      "description": "our HMAC token"
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/Object"
       }
      }
     },
     "description": "the provider's own callback body"
    },
    "security": []
   }
  },
  "/v1/media/{key}": {
   "get": {
    "operationId": "media",
    "summary": "An artifact from R2 by signed URL",
    "tags": [
     "media"
    ],
    "responses": {
     "200": {
      "description": "The bytes",
      "content": {
       "*/*": {
        "schema": {
         "type": "string",
         "format": "binary"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     }
    },
    "description": "`key` is the artifact's R2 key and may contain `/`.",
    "parameters": [
     {
      "name": "key",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "exp",
      "in": "query",
      "required": true,
      "schema": {
       "type": "integer"
      },
      "description": "expiry (ms since epoch)"
     },
     {
      "name": "sig",
      "in": "query",
      "required": true,
      "schema": {
       "type": "string"
      },
      "description": "signature"
     }
    ],
    "security": []
   }
  }
 },
 "webhooks": {
  "renderStatusChanged": {
   "post": {
    "summary": "A render's status changed (sent to the brief's `webhook_url`)",
    "description": "Standard Webhooks: `webhook-id` (`{job}-{n}`, stable across retries), `webhook-timestamp` (Unix seconds), `webhook-signature` (`v1,<base64 HMAC-SHA256 of id.timestamp.body>` keyed with the secret from GET /v1/webhooks/secret). Any 2xx acknowledges; anything else is retried (5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 6 h, 10 h; Retry-After honoured up to 1 h).",
    "parameters": [
     {
      "name": "webhook-id",
      "in": "header",
      "required": true,
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "webhook-timestamp",
      "in": "header",
      "required": true,
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "webhook-signature",
      "in": "header",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/StatusEvent"
       }
      }
     }
    },
    "responses": {
     "200": {
      "description": "Any 2xx acknowledges the delivery"
     }
    }
   }
  }
 },
 "components": {
  "securitySchemes": {
   "bearer": {
    "type": "http",
    "scheme": "bearer",
    "description": "API key: app keys (`sk_...`, one creator) or support keys"
   }
  },
  "schemas": {
   "Error": {
    "type": "object",
    "properties": {
     "error": {
      "type": "object",
      "properties": {
       "code": {
        "type": "string",
        "description": "stable machine code, e.g. `invalid_brief`, `idempotency_conflict`, `rate_limited`"
       },
       "message": {
        "type": "string",
        "description": "what happened, for a person"
       },
       "field": {
        "type": "string",
        "description": "the offending field or parameter (400 only)"
       }
      },
      "required": [
       "code",
       "message"
      ]
     }
    },
    "required": [
     "error"
    ]
   },
   "JobStatus": {
    "type": "string",
    "enum": [
     "queued",
     "planning",
     "rendering",
     "assembling",
     "paused",
     "succeeded",
     "failed",
     "cancelled"
    ]
   },
   "AspectRatio": {
    "type": "string",
    "enum": [
     "16:9",
     "9:16",
     "1:1"
    ]
   },
   "Brief": {
    "type": "object",
    "properties": {
     "project_id": {
      "type": "string"
     },
     "logline": {
      "type": "string"
     },
     "format": {
      "type": "string"
     },
     "outcome_target": {
      "type": "string",
      "enum": [
       "watch_time",
       "conversions",
       "impressions",
       "signups"
      ]
     },
     "deadline_s": {
      "type": "integer",
      "minimum": 1
     },
     "budget_usd": {
      "type": "number",
      "exclusiveMinimum": 0
     },
     "platforms": {
      "type": "array",
      "items": {
       "type": "string",
       "enum": [
        "youtube",
        "youtube_shorts",
        "tiktok",
        "reels",
        "x",
        "linkedin"
       ]
      }
     },
     "pacing": {
      "type": "object",
      "properties": {
       "target_duration_s": {
        "type": "number"
       },
       "energy": {
        "type": "string",
        "enum": [
         "slow_burn",
         "steady",
         "punchy"
        ]
       }
      },
      "required": [
       "target_duration_s",
       "energy"
      ]
     },
     "cast": {
      "type": "array",
      "items": {
       "type": "object",
       "properties": {
        "id": {
         "type": "string"
        },
        "name": {
         "type": "string"
        },
        "description": {
         "type": "string"
        }
       },
       "required": [
        "id",
        "name",
        "description"
       ]
      }
     },
     "shots": {
      "type": "array",
      "items": {
       "type": "object",
       "properties": {
        "id": {
         "type": "string"
        },
        "kind": {
         "type": "string",
         "enum": [
          "establishing",
          "close_up",
          "b_roll",
          "dialogue",
          "action",
          "crowd"
         ]
        },
        "prompt": {
         "type": "string"
        },
        "duration_s": {
         "type": "number"
        },
        "hero": {
         "type": "boolean"
        },
        "cast": {
         "type": "array",
         "items": {
          "type": "string"
         }
        },
        "dialogue": {
         "type": [
          "object",
          "null"
         ],
         "properties": {
          "character": {
           "type": "string"
          },
          "line": {
           "type": "string"
          }
         },
         "required": [
          "character",
          "line"
         ]
        }
       },
       "required": [
        "id",
        "kind",
        "prompt",
        "duration_s"
       ]
      }
     },
     "voiceover": {
      "type": [
       "object",
       "null"
      ],
      "properties": {
       "text": {
        "type": "string"
       },
       "voice": {
        "type": "string"
       }
      },
      "required": [
       "text",
       "voice"
      ]
     },
     "score": {
      "type": [
       "object",
       "null"
      ],
      "properties": {
       "mood": {
        "type": "string"
       },
       "duration_s": {
        "type": "number"
       }
      },
      "required": [
       "mood",
       "duration_s"
      ]
     },
     "webhook_url": {
      "type": [
       "string",
       "null"
      ],
      "description": "http(s) URL that receives signed `render.status_changed` webhooks (see `webhooks`)"
     },
     "captions": {
      "type": "object",
      "properties": {
       "burn": {
        "type": "boolean",
        "description": "burn the captions into every video output; a WebVTT file comes with the outputs either way"
       }
      },
      "additionalProperties": false
     }
    },
    "required": [
     "project_id",
     "logline",
     "format",
     "outcome_target",
     "deadline_s",
     "budget_usd",
     "platforms",
     "pacing",
     "shots"
    ],
    "description": "A Director Brief; validated in full, a 400 names the first bad field (e.g. `shots[3].duration_s`)"
   },
   "Scores": {
    "type": "object",
    "properties": {
     "quality": {
      "type": "number"
     },
     "continuity": {
      "type": "number"
     },
     "cost": {
      "type": "number"
     },
     "latency": {
      "type": "number"
     },
     "outcome": {
      "type": "number"
     }
    },
    "required": [
     "quality",
     "continuity",
     "cost",
     "latency",
     "outcome"
    ],
    "description": "Ra's five ranked dimensions, each 0..1"
   },
   "Candidate": {
    "type": "object",
    "properties": {
     "model": {
      "type": "string"
     },
     "scores": {
      "$ref": "#/components/schemas/Scores"
     },
     "cost_usd": {
      "type": "number"
     },
     "latency_ms": {
      "type": "integer"
     }
    },
    "required": [
     "model",
     "scores",
     "cost_usd",
     "latency_ms"
    ]
   },
   "Decision": {
    "type": "object",
    "properties": {
     "stage": {
      "type": "string"
     },
     "candidates": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/Candidate"
      }
     },
     "excluded": {
      "type": "array",
      "items": {
       "type": "array",
       "items": {
        "type": "string"
       },
       "description": "[model, why]"
      }
     },
     "reason": {
      "type": "string"
     },
     "registry_version": {
      "type": "integer"
     },
     "budget_usd": {
      "type": "number"
     },
     "notes": {
      "type": "array",
      "items": {
       "type": "string"
      }
     }
    },
    "required": [
     "stage",
     "candidates",
     "excluded",
     "reason"
    ],
    "description": "Ra's routing decision: candidates best first, with scores"
   },
   "AttemptRecord": {
    "type": "object",
    "properties": {
     "attempt": {
      "type": "integer"
     },
     "model": {
      "type": "string"
     },
     "provider_ref": {
      "type": [
       "string",
       "null"
      ]
     },
     "started_at": {
      "type": "integer",
      "description": "milliseconds since the Unix epoch"
     },
     "ended_at": {
      "type": [
       "integer",
       "null"
      ],
      "description": "milliseconds since the Unix epoch"
     },
     "reserved": {
      "type": "integer",
      "description": "micro-dollars reserved"
     },
     "outcome": {
      "type": "object",
      "properties": {
       "outcome": {
        "type": "string",
        "enum": [
         "in_flight",
         "succeeded",
         "failed",
         "cancelled"
        ]
       },
       "reason": {
        "type": "string"
       }
      },
      "required": [
       "outcome"
      ]
     },
     "note": {
      "type": [
       "string",
       "null"
      ]
     },
     "provider": {
      "type": [
       "string",
       "null"
      ],
      "description": "support view only: the model's provider"
     }
    },
    "required": [
     "attempt",
     "model",
     "provider_ref",
     "started_at",
     "outcome"
    ]
   },
   "Artifact": {
    "type": "object",
    "properties": {
     "name": {
      "type": "string"
     },
     "key": {
      "type": "string"
     },
     "content_type": {
      "type": "string"
     },
     "bytes": {
      "type": "integer"
     },
     "aspect": {
      "anyOf": [
       {
        "$ref": "#/components/schemas/AspectRatio"
       },
       {
        "type": "null"
       }
      ]
     },
     "position": {
      "type": "integer"
     },
     "url": {
      "type": "string",
      "description": "signed download link (1 h)"
     }
    },
    "required": [
     "name",
     "key",
     "content_type",
     "bytes"
    ]
   },
   "StageView": {
    "type": "object",
    "properties": {
     "id": {
      "type": "string"
     },
     "kind": {
      "type": "string",
      "enum": [
       "keyframe",
       "motion",
       "dialogue",
       "voiceover",
       "score",
       "assembly"
      ]
     },
     "shot": {
      "type": [
       "string",
       "null"
      ]
     },
     "status": {
      "type": "string",
      "enum": [
       "blocked",
       "ready",
       "submitting",
       "running",
       "storing",
       "backing_off",
       "done",
       "failed",
       "cancelled"
      ]
     },
     "deps": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "model": {
      "type": [
       "string",
       "null"
      ]
     },
     "attempt": {
      "type": "integer"
     },
     "provider_ref": {
      "type": [
       "string",
       "null"
      ]
     },
     "cost_usd": {
      "type": "number"
     },
     "seconds": {
      "type": [
       "number",
       "null"
      ]
     },
     "artifacts": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/Artifact"
      }
     },
     "error": {
      "type": [
       "string",
       "null"
      ]
     },
     "decision": {
      "$ref": "#/components/schemas/Decision"
     },
     "attempts": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/AttemptRecord"
      }
     }
    },
    "required": [
     "id",
     "kind",
     "shot",
     "status",
     "deps",
     "model",
     "attempt",
     "provider_ref",
     "cost_usd",
     "seconds",
     "artifacts",
     "error",
     "decision",
     "attempts"
    ]
   },
   "SupportAction": {
    "type": "object",
    "required": [
     "action"
    ],
    "properties": {
     "action": {
      "type": "string",
      "enum": [
       "retry_stage",
       "reroute",
       "pause",
       "resume",
       "cancel",
       "restart_from"
      ]
     },
     "stage": {
      "type": "string"
     },
     "model": {
      "type": "string"
     }
    }
   },
   "ActionRecord": {
    "type": "object",
    "properties": {
     "at": {
      "type": "integer",
      "description": "milliseconds since the Unix epoch"
     },
     "by": {
      "type": "string"
     },
     "reason": {
      "type": "string"
     },
     "action": {
      "$ref": "#/components/schemas/SupportAction"
     }
    },
    "required": [
     "at",
     "by",
     "reason",
     "action"
    ]
   },
   "NotificationView": {
    "type": "object",
    "properties": {
     "id": {
      "type": "integer"
     },
     "status": {
      "$ref": "#/components/schemas/JobStatus"
     },
     "attempts": {
      "type": "integer"
     },
     "state": {
      "type": "object",
      "properties": {
       "state": {
        "type": "string",
        "enum": [
         "sending",
         "pending",
         "delivered",
         "gave_up"
        ]
       },
       "deadline": {
        "type": "integer",
        "description": "milliseconds since the Unix epoch"
       },
       "next_at": {
        "type": "integer",
        "description": "milliseconds since the Unix epoch"
       },
       "at": {
        "type": "integer",
        "description": "milliseconds since the Unix epoch"
       },
       "last_error": {
        "type": "string"
       }
      },
      "required": [
       "state"
      ]
     }
    },
    "required": [
     "id",
     "status",
     "attempts",
     "state"
    ]
   },
   "JobView": {
    "type": "object",
    "properties": {
     "job_id": {
      "type": "string"
     },
     "creator": {
      "type": "string"
     },
     "status": {
      "$ref": "#/components/schemas/JobStatus"
     },
     "history": {
      "type": "array",
      "items": {
       "type": "object",
       "properties": {
        "status": {
         "$ref": "#/components/schemas/JobStatus"
        },
        "at": {
         "type": "integer",
         "description": "milliseconds since the Unix epoch"
        }
       },
       "required": [
        "status",
        "at"
       ]
      }
     },
     "progress": {
      "$ref": "#/components/schemas/Progress"
     },
     "registry_version": {
      "type": "integer"
     },
     "budget_usd": {
      "type": "number"
     },
     "committed_usd": {
      "type": "number"
     },
     "cost_usd": {
      "type": "number"
     },
     "cost_by_shot": {
      "type": "array",
      "items": {
       "type": "object",
       "properties": {
        "shot": {
         "type": "string"
        },
        "usd": {
         "type": "number"
        }
       },
       "required": [
        "shot",
        "usd"
       ]
      }
     },
     "warnings": {
      "type": "array",
      "items": {
       "type": "object",
       "properties": {
        "from": {
         "type": "string"
        },
        "field": {
         "type": "string"
        },
        "shot": {
         "type": [
          "string",
          "null"
         ]
        },
        "message": {
         "type": "string"
        }
       },
       "required": [
        "field",
        "message"
       ]
      }
     },
     "notes": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "failure": {
      "type": [
       "string",
       "null"
      ]
     },
     "cancelled_by": {
      "type": [
       "string",
       "null"
      ]
     },
     "master_key": {
      "type": [
       "string",
       "null"
      ]
     },
     "master_url": {
      "type": "string",
      "description": "signed download link of the master"
     },
     "poster_key": {
      "type": [
       "string",
       "null"
      ],
      "description": "R2 key of the poster frame (JPEG), once assembled"
     },
     "poster_url": {
      "type": "string",
      "description": "signed download link of the poster"
     },
     "captions_key": {
      "type": [
       "string",
       "null"
      ],
      "description": "R2 key of the WebVTT captions, once assembled; null when nothing is spoken or the route made none"
     },
     "captions_url": {
      "type": "string",
      "description": "signed download link of the captions"
     },
     "variants": {
      "type": "array",
      "items": {
       "type": "object",
       "properties": {
        "aspect": {
         "$ref": "#/components/schemas/AspectRatio"
        },
        "key": {
         "type": "string"
        },
        "url": {
         "type": "string"
        }
       },
       "required": [
        "aspect",
        "key"
       ]
      }
     },
     "stages": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/StageView"
      }
     },
     "next_deadline": {
      "type": [
       "integer",
       "null"
      ],
      "description": "milliseconds since the Unix epoch"
     },
     "paused_from": {
      "anyOf": [
       {
        "$ref": "#/components/schemas/JobStatus"
       },
       {
        "type": "null"
       }
      ]
     },
     "actions": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/ActionRecord"
      }
     },
     "notifications": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/NotificationView"
      }
     }
    },
    "required": [
     "job_id",
     "creator",
     "status",
     "history",
     "progress",
     "budget_usd",
     "cost_usd",
     "cost_by_shot",
     "warnings",
     "master_key",
     "variants",
     "stages",
     "actions",
     "notifications"
    ],
    "description": "A render as the API shows it; the ETag covers everything but the signed links"
   },
   "Progress": {
    "type": "object",
    "properties": {
     "total": {
      "type": "integer"
     },
     "done": {
      "type": "integer"
     },
     "running": {
      "type": "integer"
     },
     "failed": {
      "type": "integer"
     }
    },
    "required": [
     "total",
     "done",
     "running",
     "failed"
    ]
   },
   "RenderRow": {
    "type": "object",
    "properties": {
     "job_id": {
      "type": "string"
     },
     "project_id": {
      "type": "string"
     },
     "status": {
      "$ref": "#/components/schemas/JobStatus"
     },
     "total_usd": {
      "type": "number"
     },
     "created_at": {
      "type": "integer",
      "description": "milliseconds since the Unix epoch"
     },
     "updated_at": {
      "type": "integer",
      "description": "milliseconds since the Unix epoch"
     }
    },
    "required": [
     "job_id",
     "project_id",
     "status",
     "total_usd",
     "created_at",
     "updated_at"
    ]
   },
   "RenderList": {
    "type": "object",
    "properties": {
     "renders": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/RenderRow"
      }
     },
     "next_cursor": {
      "type": [
       "string",
       "null"
      ],
      "description": "pass as `cursor` for the next page; null on the last"
     }
    },
    "required": [
     "renders",
     "next_cursor"
    ]
   },
   "SupportRenderRow": {
    "allOf": [
     {
      "$ref": "#/components/schemas/RenderRow"
     },
     {
      "type": "object",
      "properties": {
       "creator_id": {
        "type": "string"
       }
      },
      "required": [
       "creator_id"
      ]
     }
    ]
   },
   "SupportRenderList": {
    "type": "object",
    "properties": {
     "renders": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/SupportRenderRow"
      }
     },
     "next_cursor": {
      "type": [
       "string",
       "null"
      ]
     }
    },
    "required": [
     "renders",
     "next_cursor"
    ]
   },
   "SupportView": {
    "allOf": [
     {
      "$ref": "#/components/schemas/JobView"
     },
     {
      "type": "object",
      "properties": {
       "edges": {
        "type": "array",
        "items": {
         "type": "object",
         "properties": {
          "from": {
           "type": "string"
          },
          "to": {
           "type": "string"
          }
         },
         "required": [
          "from",
          "to"
         ],
         "description": "`to` waits for `from`"
        }
       },
       "submitted_by": {
        "type": "string"
       },
       "created_at": {
        "type": "integer",
        "description": "milliseconds since the Unix epoch"
       },
       "project_id": {
        "type": "string"
       },
       "paid_tier": {
        "type": "boolean"
       },
       "memory_context_used": {
        "type": "boolean"
       },
       "journal_length": {
        "type": "integer"
       },
       "cost_ledger": {
        "type": "object",
        "properties": {
         "rows": {
          "type": "array",
          "items": {
           "type": "object",
           "properties": {
            "stage_id": {
             "type": "string"
            },
            "attempt": {
             "type": "integer"
            },
            "model": {
             "type": "string"
            },
            "provider": {
             "type": "string"
            },
            "usd": {
             "type": "number"
            },
            "recorded_at": {
             "type": "integer",
             "description": "milliseconds since the Unix epoch"
            }
           },
           "required": [
            "stage_id",
            "attempt",
            "model",
            "provider",
            "usd",
            "recorded_at"
           ]
          }
         },
         "total_usd": {
          "type": "number"
         }
        },
        "required": [
         "rows",
         "total_usd"
        ]
       },
       "provider_tasks": {
        "type": "array",
        "items": {
         "type": "object",
         "properties": {
          "provider": {
           "type": "string"
          },
          "provider_ref": {
           "type": "string"
          },
          "stage_id": {
           "type": "string"
          },
          "attempt": {
           "type": "integer"
          }
         },
         "required": [
          "provider",
          "provider_ref",
          "stage_id",
          "attempt"
         ]
        }
       }
      },
      "required": [
       "edges",
       "submitted_by",
       "created_at",
       "project_id",
       "paid_tier",
       "memory_context_used",
       "journal_length",
       "cost_ledger",
       "provider_tasks"
      ]
     }
    ],
    "description": "Everything about a job for support: the job view plus the DAG's edges, every attempt with provider and task id, routing decisions with scores, costs and the ledger, warnings, support actions, notifications"
   },
   "Actor": {
    "type": "object",
    "required": [
     "kind"
    ],
    "properties": {
     "kind": {
      "type": "string",
      "enum": [
       "app",
       "provider",
       "alarm",
       "support",
       "system"
      ]
     },
     "by": {
      "type": "string"
     },
     "provider": {
      "type": "string"
     }
    }
   },
   "JournalEntry": {
    "type": "object",
    "properties": {
     "seq": {
      "type": "integer"
     },
     "at": {
      "type": "integer",
      "description": "milliseconds since the Unix epoch"
     },
     "actor": {
      "$ref": "#/components/schemas/Actor"
     },
     "input": {
      "type": "object",
      "required": [
       "type"
      ],
      "properties": {
       "type": {
        "type": "string"
       }
      },
      "description": "the input the job handled, tagged by `type` (`created`, `provider_update`, `support`, ...)"
     }
    },
    "required": [
     "seq",
     "at",
     "actor",
     "input"
    ]
   },
   "JournalPage": {
    "type": "object",
    "properties": {
     "entries": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/JournalEntry"
      }
     },
     "next_after": {
      "type": [
       "integer",
       "null"
      ],
      "description": "pass as `after` for the next page; null when this page was the last"
     }
    },
    "required": [
     "entries",
     "next_after"
    ]
   },
   "SupportActionRequest": {
    "type": "object",
    "required": [
     "action",
     "reason"
    ],
    "properties": {
     "action": {
      "type": "string",
      "enum": [
       "retry_stage",
       "reroute",
       "pause",
       "resume",
       "cancel",
       "restart_from"
      ]
     },
     "reason": {
      "type": "string",
      "minLength": 1,
      "description": "why; journaled with the key's prefix"
     },
     "stage": {
      "type": "string",
      "description": "retry_stage, reroute, restart_from"
     },
     "model": {
      "type": "string",
      "description": "reroute: a model of the job's pinned registry"
     }
    }
   },
   "WebhookSecret": {
    "type": "object",
    "properties": {
     "secret": {
      "type": "string",
      "description": "`whsec_` + base64 of 32 random bytes"
     },
     "scheme": {
      "type": "string",
      "enum": [
       "standard-webhooks-v1"
      ]
     },
     "headers": {
      "type": "array",
      "items": {
       "type": "string"
      }
     }
    },
    "required": [
     "secret",
     "scheme",
     "headers"
    ]
   },
   "StatusEvent": {
    "type": "object",
    "properties": {
     "type": {
      "type": "string",
      "enum": [
       "render.status_changed"
      ]
     },
     "job_id": {
      "type": "string"
     },
     "status": {
      "$ref": "#/components/schemas/JobStatus"
     },
     "previous": {
      "$ref": "#/components/schemas/JobStatus"
     },
     "at": {
      "type": "integer",
      "description": "milliseconds since the Unix epoch"
     },
     "reason": {
      "type": [
       "string",
       "null"
      ]
     }
    },
    "required": [
     "type",
     "job_id",
     "status",
     "previous",
     "at",
     "reason"
    ],
    "description": "The body of a status webhook"
   },
   "Whoami": {
    "type": "object",
    "properties": {
     "role": {
      "type": "string",
      "enum": [
       "app",
       "support",
       "support_admin"
      ]
     },
     "creator": {
      "type": [
       "string",
       "null"
      ]
     },
     "key_prefix": {
      "type": "string"
     }
    },
    "required": [
     "role",
     "creator",
     "key_prefix"
    ]
   },
   "Health": {
    "type": "object",
    "properties": {
     "ok": {
      "type": "boolean"
     },
     "bindings": {
      "type": "object",
      "additionalProperties": {
       "type": "object",
       "required": [
        "ok"
       ],
       "properties": {
        "ok": {
         "type": "boolean"
        }
       }
      }
     }
    },
    "required": [
     "ok",
     "bindings"
    ]
   },
   "SnapshotEvent": {
    "type": "object",
    "properties": {
     "job_id": {
      "type": "string"
     },
     "status": {
      "$ref": "#/components/schemas/JobStatus"
     },
     "progress": {
      "$ref": "#/components/schemas/Progress"
     },
     "stages": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/StageEvent"
      }
     }
    },
    "required": [
     "job_id",
     "status",
     "progress",
     "stages"
    ],
    "description": "SSE `event: snapshot` data"
   },
   "StageEvent": {
    "type": "object",
    "properties": {
     "stage": {
      "type": "string"
     },
     "status": {
      "type": "string",
      "enum": [
       "blocked",
       "ready",
       "submitting",
       "running",
       "storing",
       "backing_off",
       "done",
       "failed",
       "cancelled"
      ]
     },
     "model": {
      "type": [
       "string",
       "null"
      ]
     },
     "attempt": {
      "type": "integer"
     },
     "progress": {
      "$ref": "#/components/schemas/Progress"
     }
    },
    "required": [
     "stage",
     "status",
     "model",
     "attempt"
    ],
    "description": "SSE `event: stage` data (and each stage of a snapshot)"
   },
   "StatusChange": {
    "type": "object",
    "properties": {
     "status": {
      "$ref": "#/components/schemas/JobStatus"
     },
     "from": {
      "$ref": "#/components/schemas/JobStatus"
     },
     "progress": {
      "$ref": "#/components/schemas/Progress"
     },
     "failure": {
      "type": [
       "string",
       "null"
      ]
     }
    },
    "required": [
     "status",
     "from",
     "progress",
     "failure"
    ],
    "description": "SSE `event: status` data"
   },
   "Accepted": {
    "type": "object",
    "properties": {
     "accepted": {
      "type": "boolean"
     }
    },
    "required": [
     "accepted"
    ]
   },
   "Object": {
    "type": "object"
   }
  },
  "responses": {
   "BadRequest": {
    "description": "Bad input; `error.field` names the field or parameter",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "Unauthorized": {
    "description": "No key, or an unknown or revoked key",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "Forbidden": {
    "description": "The key's role may not use this route",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "NotFound": {
    "description": "Not there, or not yours (never 403 for another creator's render)",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "Conflict": {
    "description": "Idempotency conflict, or a state that refuses the action",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "TooLarge": {
    "description": "The body is over the route's limit",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "Unavailable": {
    "description": "The service cannot take this request now (for a render: no assembly route)",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "RateLimited": {
    "description": "The key is over its rate",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    },
    "headers": {
     "Retry-After": {
      "description": "seconds until the key's window ends",
      "schema": {
       "type": "integer"
      }
     }
    }
   }
  },
  "parameters": {
   "RenderId": {
    "name": "id",
    "in": "path",
    "required": true,
    "schema": {
     "type": "string",
     "pattern": "^rnd_[0-9a-f]{32}$"
    },
    "description": "the render's id"
   }
  }
 }
}
"##;
