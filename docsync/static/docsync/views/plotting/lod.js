/**
 * Level of detail while the user pans and zooms: a glyph of more rows than the plot's
 * ``lod_threshold`` draws every ``lod_factor``-th row until ``lod_timeout`` ms after the
 * interaction ends, then the whole plot is drawn again in full.
 */

export class LevelOfDetail {
  constructor(view) {
    this.view = view;
    this.active = false;
    this._timer = null;
  }

  interacting(on) {
    clearTimeout(this._timer);
    if (on) {
      this.active = true;
      return;
    }
    const timeout = this.view.prop("lod_timeout") ?? 500;
    this._timer = setTimeout(() => {
      this.active = false;
      this.view.invalidate();
    }, timeout);
  }

  /** Return the rows of ``r`` to draw while interacting (null: all). */
  rows(r) {
    const threshold = this.view.prop("lod_threshold");
    if (threshold === null || r.n <= threshold || r.desc.singular) return null;
    const factor = Math.max(1, this.view.prop("lod_factor") ?? 10);
    const rows = new Uint32Array(Math.ceil(r.n / factor));
    for (let k = 0, i = 0; i < r.n; i += factor, k++) rows[k] = i;
    return rows;
  }
}
