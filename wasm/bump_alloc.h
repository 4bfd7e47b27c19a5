// The bump allocator every kernel module exports: the host asks for its
// buffers once per call, then resets. Memory grows on demand; 0 means out of
// memory. Included by each wasm/*.c (a header, so tools/build_wasm.ts does
// not compile it on its own).

extern unsigned char __heap_base;
static unsigned long heap_top = 0;

__attribute__((export_name("alloc"))) unsigned long alloc(unsigned long bytes) {
  if (heap_top == 0) heap_top = (unsigned long)&__heap_base;
  unsigned long start = (heap_top + 15) & ~15ul;
  unsigned long end = start + bytes;
  unsigned long have = __builtin_wasm_memory_size(0) * 65536ul;
  if (end > have) {
    unsigned long pages = (end - have + 65535) / 65536;
    if (__builtin_wasm_memory_grow(0, pages) == (unsigned long)-1) return 0;
  }
  heap_top = end;
  return start;
}

__attribute__((export_name("reset"))) void reset(void) { heap_top = 0; }
