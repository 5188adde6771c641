/** A webhook source names the sender in the URL (`/api/webhooks/<source>`) and in the log. */
export const WEBHOOK_SOURCE_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const WEBHOOK_SOURCE_RULE =
  '1-64 lowercase letters, digits, "_" or "-", starting with a letter or digit';
