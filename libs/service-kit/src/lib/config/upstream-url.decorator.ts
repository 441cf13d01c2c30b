import { IsUrl } from 'class-validator';

/** An http(s) URL variable (localhost and plain IPs allowed), with a message naming the accepted form. */
export function UpstreamUrl(): PropertyDecorator {
  return IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true }, { message: ({ property }) => `${property} must be an http(s) URL, e.g. http://127.0.0.1:8010/gmail` });
}
