import { Body, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { BearerTokenGuard } from '../common/bearer-token.guard';
import { upstreamHealth } from '../common/upstream-health';

interface ChatMessage {
  role: string;
  content: string;
}

/** OpenAI-compatible chat completions. */
@Controller('openai')
export class OpenaiController {
  @Get('health')
  health() {
    return upstreamHealth('openai');
  }

  @Post('v1/chat/completions')
  @HttpCode(200)
  @UseGuards(BearerTokenGuard)
  complete(@Body() body: { model?: string; messages?: ChatMessage[] }) {
    const prompt = (body.messages ?? []).map((m) => m.content).join('\n');
    const lines = prompt.split('\n').filter((l) => l.trim()).length;
    const content = `Good morning. Here is your daily brief, drawn from ${lines} source lines: your inbox is under control, the pipeline is healthy and cash is ahead of plan.`;
    const promptTokens = Math.ceil(prompt.length / 4);
    const completionTokens = Math.ceil(content.length / 4);
    return {
      id: `chatcmpl-${randomUUID()}`,
      object: 'chat.completion',
      model: body.model ?? 'gpt-4o-mini',
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    };
  }
}
