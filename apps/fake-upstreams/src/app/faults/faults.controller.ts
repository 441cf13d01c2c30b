import { Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
import { CreateFaultDto } from './fault.dto';
import { Fault, FaultsService } from './faults.service';

/** The fault API: POST/GET/DELETE /__faults (CONTRACT.md §7). */
@Controller('__faults')
export class FaultsController {
  constructor(private readonly faults: FaultsService) {}

  @Post()
  create(@Body() dto: CreateFaultDto): Fault {
    return this.faults.add(dto);
  }

  @Get()
  list(): { faults: Fault[] } {
    return { faults: this.faults.list() };
  }

  @Delete(':id')
  @HttpCode(204)
  remove(@Param('id') id: string): void {
    if (!this.faults.remove(id)) throw new NotFoundException(`no fault with id ${id}`);
  }

  @Delete()
  @HttpCode(204)
  clear(): void {
    this.faults.clear();
  }
}
