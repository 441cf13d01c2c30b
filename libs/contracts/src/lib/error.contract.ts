/** Every error answer of every service (CONTRACT.md §8). */
export interface ErrorResponse {
  statusCode: number;
  error: string;
  message: string | string[];
}
