export type BarState = 'ok' | 'warn' | 'bad' | 'none' | 'maint';
export function uptimeBars(bars: { state: BarState; title: string }[], label: string): string;
export function barState(runs: number, failures: number, maintenance?: number): BarState;
export function sparkline(points: number[], budget: number): string;
export const CHART_STYLE: string;
export function esc(s: string): string;
