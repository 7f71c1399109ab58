//! MiniMax's `base_resp` envelope, shared by Hailuo video and MiniMax music. Every response
//! carries `base_resp: {status_code, status_msg}`, and a non-zero code is an error even on HTTP
//! 200 (<https://platform.minimax.io/docs/api-reference/errorcode>).

use serde::Deserialize;

use super::ProviderError;

/// `base_resp`
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct BaseResp {
    /// 0 is success
    #[serde(default)]
    pub status_code: i64,
    /// The reason
    #[serde(default)]
    pub status_msg: String,
}

/// Sensitive input (1026) or output (1027)
pub(crate) fn is_moderation_code(code: i64) -> bool {
    matches!(code, 1026 | 1027)
}

impl BaseResp {
    /// `Ok` for code 0, else the error the code means
    pub fn check(&self) -> Result<(), ProviderError> {
        let reason = format!("minimax {}: {}", self.status_code, self.status_msg);
        match self.status_code {
            0 => Ok(()),
            // 1002: RPM limit, 1039: token limit
            1002 | 1039 => Err(ProviderError::RateLimited { retry_after: None }),
            // 1004: authentication failed
            1004 => Err(ProviderError::Unauthorized),
            code if is_moderation_code(code) => Err(ProviderError::Moderated { reason }),
            // 1000: unknown, 1001: timeout, 1013: internal
            1000 | 1001 | 1013 => Err(ProviderError::Transient { reason }),
            // 1008: insufficient balance, 2013: invalid parameters, and the rest
            _ => Err(ProviderError::Rejected { reason }),
        }
    }
}
