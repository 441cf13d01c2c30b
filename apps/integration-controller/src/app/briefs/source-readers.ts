import type { IntegrationControllerEnv } from '../../config/integration-controller.config';
import type { Provider } from '../integrations/integration.dto';

type Json = Record<string, unknown>;

/** How to read one provider's data for a brief, and how to summarize it for the writer. */
export interface SourceReader {
  upstream: string;
  url: (c: IntegrationControllerEnv) => string;
  summarize: (body: Json) => string;
}

const list = (body: Json, key: string): Json[] => (Array.isArray(body[key]) ? (body[key] as Json[]) : []);

export const SOURCE_READERS: Record<Provider, SourceReader> = {
  gmail: {
    upstream: 'gmail_api',
    url: (c) => `${c.GMAIL_API_URL}/v1/users/me/messages`,
    summarize: (b) => `${list(b, 'messages').length} new emails: ${list(b, 'messages').map((m) => m['subject']).join('; ')}`,
  },
  slack: {
    upstream: 'slack_api',
    url: (c) => `${c.SLACK_API_URL}/api/conversations.history`,
    summarize: (b) => list(b, 'messages').map((m) => m['text']).join(' '),
  },
  quickbooks: {
    upstream: 'quickbooks_api',
    url: (c) => `${c.QUICKBOOKS_API_URL}/v3/company/demo/reports/ProfitAndLoss`,
    summarize: (b) => `net income ${JSON.stringify((b['Summary'] as Json | undefined)?.['NetIncome'] ?? 'unknown')}`,
  },
  salesforce: {
    upstream: 'salesforce_api',
    url: (c) => `${c.SALESFORCE_API_URL}/services/data/v60.0/query`,
    summarize: (b) => list(b, 'records').map((r) => `${r['Name']} (${r['StageName']})`).join('; '),
  },
};
