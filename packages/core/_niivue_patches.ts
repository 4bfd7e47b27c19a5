/**
 * Source patches applied to NiiVue's module whenever brainorg bundles it
 * (`niivue_script.ts`: the dashboard's module and the report's inlined script),
 * so that its start costs less main-thread time where
 * WebGL runs on the CPU (SwiftShader: a shader program compiles in 5–60 ms,
 * NiiVue 0.69's `init()` compiles 48 of them, about 0.6 s, and recomputes
 * the 3-D render's gradient texture on every volume refresh, about 0.3 s):
 *
 * - **lazy shader programs**: a `Shader` compiles on first use; the uniforms
 *   `init()` sets on programs it does not use yet are recorded and replayed
 *   when the program is compiled, so a page that shows 2-D slices never
 *   compiles the 3-D render, mesh, fibre or image-processing programs;
 * - **gradient on demand**: the background's gradient texture (only the 3-D
 *   render reads it) is computed when a render is first drawn after the
 *   background changed, not on every refresh of the layers.
 *
 * Each patch names the exact text it replaces: a NiiVue release that changes
 * it makes {@linkcode patchNiivue} report the patch as not applied (the
 * bundle is then served unpatched, and `_niivue_patches_test.ts` fails).
 *
 * @module
 */

/** One textual patch: `find` must occur exactly once in NiiVue's `build/niivue/index.js`. */
export interface NiivuePatch {
  name: string;
  find: string;
  replace: string;
}

/** NiiVue 0.69's `Shader`, as its dist has it (compiled at construction). */
const EAGER_SHADER = `var Shader = class {
  constructor(gl, vertexSrc, fragmentSrc) {
    __publicField(this, "program");
    __publicField(this, "uniforms", {});
    __publicField(this, "isMatcap");
    __publicField(this, "isCrosscut");
    this.program = compileShader(gl, vertexSrc, fragmentSrc);
    const regexUniform = /uniform[^;]+[ ](\\w+);/g;
    const matchUniformName = /uniform[^;]+[ ](\\w+);/;
    const vertexUnifs = vertexSrc.match(regexUniform);
    const fragUnifs = fragmentSrc.match(regexUniform);
    if (vertexUnifs) {
      vertexUnifs.forEach((unif) => {
        const m = unif.match(matchUniformName);
        this.uniforms[m[1]] = -1;
      });
    }
    if (fragUnifs) {
      fragUnifs.forEach((unif) => {
        const m = unif.match(matchUniformName);
        this.uniforms[m[1]] = -1;
      });
    }
    for (const unif in this.uniforms) {
      this.uniforms[unif] = gl.getUniformLocation(this.program, unif);
    }
  }
  use(gl) {
    gl.useProgram(this.program);
  }
};`;

/**
 * The lazy `Shader`. While `deferShaders$(gl)` is on (NiiVue's `init()`),
 * `program` and `uniforms` of a program not compiled yet are stand-ins:
 * `gl.useProgram`, `gl.getUniformLocation` and `gl.uniform*` given a
 * stand-in record the call instead of making it. The first real use
 * compiles the program and replays, in order, what was recorded, then
 * makes the caller's program current again.
 */
const LAZY_SHADER = `var shaderDefer$ = null;
var deferShaders$ = (gl, on) => {
  if (!on) {
    if (shaderDefer$) for (const [k, f] of shaderDefer$.saved) gl[k] = f;
    shaderDefer$ = null;
    return;
  }
  const saved = new Map(), wrap = (k, f) => {
    saved.set(k, gl[k]);
    gl[k] = f(gl[k].bind(gl));
  };
  shaderDefer$ = { gl, saved };
  wrap("useProgram", (f) => (p) => (p && p.lazy$ ? (shaderDefer$.current = p.lazy$) : f(p)));
  wrap("getUniformLocation", (f) => (p, name) => (p && p.lazy$ ? { lazy$: p.lazy$, name$: name } : f(p, name)));
  for (const k of Object.getOwnPropertyNames(WebGL2RenderingContext.prototype)) {
    if (!/^uniform(\\d|Matrix)/.test(k)) continue;
    // Keyed by the uniform: a later value replaces an earlier one (refreshes repeat them).
    wrap(k, (f) => (loc, ...a) => (loc && loc.lazy$ ? loc.lazy$.pending$.set(loc.name$, [k, loc, a]) : f(loc, ...a)));
  }
};
var Shader = class {
  constructor(gl, vertexSrc, fragmentSrc) {
    __publicField(this, "isMatcap");
    __publicField(this, "isCrosscut");
    this.gl$ = gl;
    this.src$ = [vertexSrc, fragmentSrc];
    this.program$ = null;
    this.uniforms$ = {};
    this.pending$ = new Map();
    const regexUniform = /uniform[^;]+[ ](\\w+);/g;
    const matchUniformName = /uniform[^;]+[ ](\\w+);/;
    for (const unif of [...(vertexSrc.match(regexUniform) ?? []), ...(fragmentSrc.match(regexUniform) ?? [])]) {
      const name = unif.match(matchUniformName)[1];
      this.uniforms$[name] = { lazy$: this, name$: name };
    }
  }
  get program() {
    if (!this.program$ && shaderDefer$ && shaderDefer$.gl === this.gl$) return { lazy$: this };
    return this.program$ ?? this.compile$();
  }
  get uniforms() {
    if (!this.program$ && !(shaderDefer$ && shaderDefer$.gl === this.gl$)) this.compile$();
    return this.uniforms$;
  }
  set uniforms(u) {
    this.uniforms$ = u;
  }
  compile$() {
    const gl = this.gl$, [vert, frag] = this.src$;
    const program = compileShader(gl, vert, frag);
    const real = (loc) => (loc && loc.lazy$ === this ? gl.getUniformLocation(program, loc.name$) : loc);
    for (const k in this.uniforms$) this.uniforms$[k] = real(this.uniforms$[k]);
    this.program$ = program;
    this.src$ = null;
    if (this.pending$.size) {
      const current = gl.getParameter(gl.CURRENT_PROGRAM);
      gl.useProgram(program);
      for (const [k, loc, a] of this.pending$.values()) gl[k](real(loc), ...a);
      gl.useProgram(current);
    }
    this.pending$.clear();
    return program;
  }
  use(gl) {
    gl.useProgram(this.program);
  }
};`;

/** The patches, in the order they are applied. */
export const NIIVUE_PATCHES: readonly NiivuePatch[] = [
  { name: "lazy shader programs", find: EAGER_SHADER, replace: LAZY_SHADER },
  {
    name: "shaders deferred during init()",
    find: `    gl.bindVertexArray(this.unusedVAO);
    this.pickingMeshShader = new Shader(gl, vertMeshShader, fragMeshDepthShader);`,
    replace: `    gl.bindVertexArray(this.unusedVAO);
    deferShaders$(gl, true);
    try {
    this.pickingMeshShader = new Shader(gl, vertMeshShader, fragMeshDepthShader);`,
  },
  {
    name: "shaders deferred until the text",
    find: `    this.bmpShader = new Shader(gl, vertBmpShader, fragBmpShader);
    await this.initText();`,
    replace: `    this.bmpShader = new Shader(gl, vertBmpShader, fragBmpShader);
    } finally {
      deferShaders$(gl, false);
    }
    await this.initText();`,
  },
  {
    name: "render uniforms deferred at the background's refresh",
    find: `      this.renderShader.use(this.gl);
      this.gl.uniform3fv(this.renderShader.uniforms.texVox, this.vox);
      this.gl.uniform3fv(this.renderShader.uniforms.volScale, this.volScale);
      const pickingShader = this.pickingImageShader;
      pickingShader.use(this.gl);
      this.gl.uniform1i(pickingShader.uniforms.volume, 0);
      this.gl.uniform1i(pickingShader.uniforms.colormap, 1);
      this.gl.uniform1i(pickingShader.uniforms.overlay, 2);
      this.gl.uniform3fv(pickingShader.uniforms.volScale, this.volScale);`,
    replace: `      deferShaders$(this.gl, true);
      try {
      this.renderShader.use(this.gl);
      this.gl.uniform3fv(this.renderShader.uniforms.texVox, this.vox);
      this.gl.uniform3fv(this.renderShader.uniforms.volScale, this.volScale);
      const pickingShader = this.pickingImageShader;
      pickingShader.use(this.gl);
      this.gl.uniform1i(pickingShader.uniforms.volume, 0);
      this.gl.uniform1i(pickingShader.uniforms.colormap, 1);
      this.gl.uniform1i(pickingShader.uniforms.overlay, 2);
      this.gl.uniform3fv(pickingShader.uniforms.volScale, this.volScale);
      } finally {
        deferShaders$(this.gl, false);
      }`,
  },
  {
    name: "render uniforms deferred at each refresh: start",
    find: `    updateShaderUniforms({
      gl: this.gl,
      renderShader: this.renderShader,`,
    // The slice shader is compiled now (drawn next); the render's and the picking's uniforms
    // are recorded until a render is drawn.
    replace: `    shader.program;
    deferShaders$(this.gl, true);
    try {
    updateShaderUniforms({
      gl: this.gl,
      renderShader: this.renderShader,`,
  },
  {
    name: "render uniforms deferred at each refresh: end",
    find: `      paqdUniforms: this.opts.paqdUniforms
    });
    if (colormapLabelTexture !== null) {`,
    // updateShaderUniforms leaves the slice shader current, as the code after it expects.
    replace: `      paqdUniforms: this.opts.paqdUniforms
    });
    } finally {
      deferShaders$(this.gl, false);
    }
    shader.use(this.gl);
    if (colormapLabelTexture !== null) {`,
  },
  {
    name: "gradient on demand: not at each refresh",
    find: `    if (layer === 0) {
      this.volumeTexture = outTexture;
      this.gradientTexture = gradientGL({`,
    replace: `    if (layer === 0) {
      this.volumeTexture = outTexture;
      this.gradientHdr$ = hdr;
    }
    if (false) {
      this.gradientTexture = gradientGL({`,
  },
  {
    name: "gradient on demand: before a render",
    find: `  drawImage3D(mvpMatrix, azimuth, elevation) {
    drawImage3D({`,
    replace: `  drawImage3D(mvpMatrix, azimuth, elevation) {
    if (this.gradientHdr$ && !this.useCustomGradientTexture) {
      const gl = this.gl, hdr = this.gradientHdr$;
      this.gradientHdr$ = null;
      const viewport = gl.getParameter(gl.VIEWPORT), fb = gl.getParameter(gl.FRAMEBUFFER_BINDING);
      const blend = gl.isEnabled(gl.BLEND), vao = gl.getParameter(gl.VERTEX_ARRAY_BINDING);
      const program = gl.getParameter(gl.CURRENT_PROGRAM), unit = gl.getParameter(gl.ACTIVE_TEXTURE);
      this.gradientGL(hdr);
      gl.bindFramebuffer(gl.FRAMEBUFFER, fb);
      gl.viewport(viewport[0], viewport[1], viewport[2], viewport[3]);
      if (blend) gl.enable(gl.BLEND);
      gl.bindVertexArray(vao);
      this.bindTextures();
      gl.activeTexture(unit);
      gl.useProgram(program);
    }
    drawImage3D({`,
  },
];

/** What {@linkcode patchNiivue} did. */
export interface PatchResult {
  /** The module's source, patched (or as given, when any patch did not apply). */
  source: string;
  /** Patches that did not apply (their `find` occurs 0 or 2+ times); empty when all did. */
  missed: string[];
}

/**
 * Apply {@linkcode NIIVUE_PATCHES} to NiiVue's `build/niivue/index.js`, all or none:
 * a release that changed one of the texts gets no patch at all, rather than
 * half of a pair (a deferral without its end).
 *
 * @param source the module's source text
 * @returns the patched source, and the names of the patches that did not apply
 *
 * @example
 * ```ts
 * const { missed } = patchNiivue(await Deno.readTextFile("node_modules/@niivue/niivue/build/niivue/index.js"));
 * console.log(missed.length === 0 ? "patched" : `unpatched: ${missed.join(", ")}`);
 * ```
 */
export function patchNiivue(source: string): PatchResult {
  let out = source;
  const missed: string[] = [];
  for (const p of NIIVUE_PATCHES) {
    const at = out.indexOf(p.find);
    if (at < 0 || out.indexOf(p.find, at + 1) >= 0) {
      missed.push(p.name);
      continue;
    }
    out = out.slice(0, at) + p.replace + out.slice(at + p.find.length);
  }
  return { source: missed.length ? source : out, missed };
}
