-- Dev keys for LOCAL use only (see README). Keys are stored as sha256 hex, never in clear.
INSERT OR IGNORE INTO creators (id, name, tier, created_at) VALUES ('demo', 'Demo Creator', 'pro', 0);
INSERT OR IGNORE INTO creators (id, name, tier, created_at) VALUES ('rival', 'Rival Creator', 'free', 0);
INSERT OR IGNORE INTO api_keys (key_hash, key_prefix, role, creator_id, label, created_at) VALUES ('5d48f1024f38b44ad9ddc03dc12b2a8287c7ec690065dcef384cb1fd1753626d', 'sk_test_de', 'app', 'demo', 'dev key sk_test_demo', 0);
INSERT OR IGNORE INTO api_keys (key_hash, key_prefix, role, creator_id, label, created_at) VALUES ('6d7a435ee05fb6f2e2bb72bef429e945823b9f1ac08916e0c369cb8a584ffe58', 'sk_test_ri', 'app', 'rival', 'dev key sk_test_rival', 0);
INSERT OR IGNORE INTO api_keys (key_hash, key_prefix, role, creator_id, label, created_at) VALUES ('233e4a0f6b5e48a8a86f13ab3f90c472c74a0d5e0398cd80ffa46937e10f894d', 'sk_test_su', 'support', NULL, 'dev key sk_test_support', 0);
INSERT OR IGNORE INTO api_keys (key_hash, key_prefix, role, creator_id, label, created_at) VALUES ('f1a4eb0806c4efb21ed6626a5db159f3115748b2d4923ff442bef56a8e16c5cf', 'sk_test_su', 'support_admin', NULL, 'dev key sk_test_support_admin', 0);
-- The top tier (studio caps: 1,000 shots, $25,000, 100 renders in flight), for the benchmarks' large briefs.
INSERT OR IGNORE INTO creators (id, name, tier, created_at) VALUES ('studio', 'Studio Creator', 'studio', 0);
INSERT OR IGNORE INTO api_keys (key_hash, key_prefix, role, creator_id, label, created_at) VALUES ('6e9d42861849b5279d3b3c05744a7d73734685445cd464151e1ae91ea15a1cc9', 'sk_test_st', 'app', 'studio', 'dev key sk_test_studio', 0);
-- A second studio-tier creator, so the fleet benchmark's 200 renders come from several creators within their in-flight caps.
INSERT OR IGNORE INTO creators (id, name, tier, created_at) VALUES ('label', 'Label Creator', 'studio', 0);
INSERT OR IGNORE INTO api_keys (key_hash, key_prefix, role, creator_id, label, created_at) VALUES ('3625383195751dbf286a70c32d4c418389f58dfa766db6cc4a77c607ddb86f82', 'sk_test_la', 'app', 'label', 'dev key sk_test_label', 0);
