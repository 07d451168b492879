-- Tokens that stop working on their own: a desk session after its shift, an API token when
-- its creator said so. NULL never expires (the API tokens made before this).
ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER;
