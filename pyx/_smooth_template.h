/* (max, count, rest) kernels for one element type; included by _smooth_isa.h with
 * OOC_T (element type), OOC_V / OOC_IV (float / integer vectors of OOC_VBYTES), OOC_W (lanes),
 * OOC_EXP (vector exp of non-positive numbers), OOC_EXP64 (the same in double lanes, OOC_VD) and
 * OOC_NAME (suffix) defined. */

#define OOC_TILE 2048   /* elements of a row scanned twice from L1 */
#define OOC_RT 32       /* rows of a column strip scanned twice from L1/L2 */
#define OOC_NV (512 / OOC_VBYTES)   /* vectors across a column strip of 512 bytes */
#define OOC_FLUSH 8     /* vectors of a row whose exp sum is kept in OOC_T lanes */

OOC_INLINE OOC_V OOC_NAME(ooc_load)(const OOC_T *p)
{
    OOC_V v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* mask ? a : b, lane by lane */
OOC_INLINE OOC_V OOC_NAME(ooc_blend)(OOC_IV mask, OOC_V a, OOC_V b)
{
    return (OOC_V)(((OOC_IV)a & mask) | ((OOC_IV)b & ~mask));
}

/* sd[l] = exp(a[l] - b[l]) for a <= b, computed in double (a float factor would carry float
 * rounding, or a float subnormal's, into the double sums it rescales) */
OOC_INLINE void OOC_NAME(ooc_exp_diff)(OOC_V a, OOC_V b, double *sd)
{
    for (int h = 0; h < OOC_W; h += OOC_VBYTES / 8) {
        OOC_VD da, db;
        for (int q = 0; q < OOC_VBYTES / 8; q++) {
            da[q] = a[h + q];
            db[q] = b[h + q];
        }
        OOC_VD e = OOC_EXP64(da - db);
        memcpy(sd + h, &e, sizeof e);
    }
}

/* largest of p[0..len) (NaN ignored, -inf if nothing else); *nan set if a NaN is seen */
OOC_INLINE double OOC_NAME(ooc_tile_max)(const OOC_T *p, intptr_t len, int *nan)
{
    const OOC_V zero = {0};
    OOC_V m = zero - INFINITY;
    OOC_IV bad = {0};
    intptr_t i = 0;
    for (; i + OOC_W <= len; i += OOC_W) {
        OOC_V v = OOC_NAME(ooc_load)(p + i);
        m = OOC_NAME(ooc_blend)(v > m, v, m);
        bad |= v != v;
    }
    double best = -INFINITY;
    int any = 0;
    for (int k = 0; k < OOC_W; k++) {
        if (m[k] > best)
            best = m[k];
        any |= bad[k] != 0;
    }
    for (; i < len; i++) {
        OOC_T v = p[i];
        if (v > best)
            best = v;
        any |= v != v;
    }
    if (any)
        *nan = 1;
    return best;
}

/* adds the number of elements equal to M to *cnt and exp(x - M) of the others to *rest */
OOC_INLINE void OOC_NAME(ooc_tile_expsum)(const OOC_T *p, intptr_t len, OOC_T M, double *cnt,
                                          double *rest)
{
    const OOC_V zero = {0};
    const OOC_IV one = (OOC_IV)(zero + 1);
    const OOC_V mv = zero + M;
    OOC_V c = zero, r, r2 = zero;
    intptr_t i = 0;
    /* a two-level sum: exp of OOC_FLUSH vectors, then those sums.  One running sum per lane
     * would add up to OOC_TILE / OOC_W float terms one after the other; where the maximum is 0
     * and every other term tiny, rest is the answer and that loses several ulps to scipy's
     * pairwise sum.  Costs one add per OOC_FLUSH vectors. */
    for (; i + OOC_FLUSH * OOC_W <= len; i += OOC_FLUSH * OOC_W) {
        r = zero;
        for (int u = 0; u < OOC_FLUSH; u++) {
            OOC_V v = OOC_NAME(ooc_load)(p + i + u * OOC_W);
            OOC_IV eq = v == mv;
            OOC_V e = OOC_EXP(v - mv);
            c += (OOC_V)(eq & one);
            r += (OOC_V)(~eq & (OOC_IV)e);
        }
        r2 += r;
    }
    r = zero;
    for (; i + OOC_W <= len; i += OOC_W) {
        OOC_V v = OOC_NAME(ooc_load)(p + i);
        OOC_IV eq = v == mv;
        OOC_V e = OOC_EXP(v - mv);
        c += (OOC_V)(eq & one);
        r += (OOC_V)(~eq & (OOC_IV)e);
    }
    r2 += r;
    double cs = 0, rs = 0;
    for (int k = 0; k < OOC_W; k++) {
        cs += c[k];
        rs += r2[k];
    }
    for (; i < len; i++) {
        OOC_T v = p[i];
        if (v == M) {
            cs += 1;
        } else {
            OOC_T d = v - M;
            if (d > -746)   /* false for NaN; exp(-746) rounds to 0 */
                rs += exp((double)d);
        }
    }
    *cnt += cs;
    *rest += rs;
}

/* Reduce each of `outer` contiguous rows of length n (rows `rs` elements apart). */
static void OOC_NAME(ooc_lse_rows)(const OOC_T *x, intptr_t outer, intptr_t n,
                                              intptr_t rs, double *om, double *oc, double *orr)
{
    for (intptr_t o = 0; o < outer; o++) {
        const OOC_T *row = x + o * rs;
        double M = -INFINITY, cnt = 0, rest = 0;
        int nan = 0;
        for (intptr_t t = 0; t < n; t += OOC_TILE) {
            intptr_t len = n - t < OOC_TILE ? n - t : OOC_TILE;
            double tm = OOC_NAME(ooc_tile_max)(row + t, len, &nan);
            if (tm > M) {   /* a larger maximum: rescale what was summed against the old one */
                rest = (rest + cnt) * exp(M - tm);
                cnt = 0;
                M = tm;
            }
            OOC_NAME(ooc_tile_expsum)(row + t, len, (OOC_T)M, &cnt, &rest);
        }
        om[o] = nan ? NAN : M;
        oc[o] = cnt;
        orr[o] = rest;
    }
}

/* One strip of nv vectors of columns starting at `col`, reduced over n rows `sn` apart. */
OOC_INLINE void OOC_NAME(ooc_lse_strip)(const OOC_T *col, intptr_t n, intptr_t sn, int nv,
                                        double *om, double *oc, double *orr)
{
    const OOC_V zero = {0};
    const OOC_IV one = (OOC_IV)(zero + 1);
    OOC_V M[OOC_NV], tm[OOC_NV], c[OOC_NV], r[OOC_NV];
    OOC_IV bad[OOC_NV];
    double Cd[OOC_NV * OOC_W], Rd[OOC_NV * OOC_W];
    for (int k = 0; k < nv; k++) {
        M[k] = zero - INFINITY;
        bad[k] = (OOC_IV)zero;
    }
    for (int l = 0; l < nv * OOC_W; l++)
        Cd[l] = Rd[l] = 0;
    for (intptr_t i0 = 0; i0 < n; i0 += OOC_RT) {
        intptr_t rt = n - i0 < OOC_RT ? n - i0 : OOC_RT;
        for (int k = 0; k < nv; k++)
            tm[k] = zero - INFINITY;
        for (intptr_t i = i0; i < i0 + rt; i++) {
            const OOC_T *p = col + i * sn;
            for (int k = 0; k < nv; k++) {
                OOC_V v = OOC_NAME(ooc_load)(p + k * OOC_W);
                tm[k] = OOC_NAME(ooc_blend)(v > tm[k], v, tm[k]);
                bad[k] |= v != v;
            }
        }
        for (int k = 0; k < nv; k++) {
            OOC_IV up = tm[k] > M[k];
            OOC_V newM = OOC_NAME(ooc_blend)(up, tm[k], M[k]);
            int any = 0;
            for (int l = 0; l < OOC_W; l++)
                any |= up[l] != 0;
            if (any) {   /* a larger maximum: rescale the double sums, by a double factor */
                double sd[OOC_W];
                OOC_NAME(ooc_exp_diff)(M[k], newM, sd);
                for (int l = 0; l < OOC_W; l++) {
                    if (up[l]) {
                        double *rd = Rd + k * OOC_W + l, *cd = Cd + k * OOC_W + l;
                        *rd = (*rd + *cd) * sd[l];
                        *cd = 0;
                    }
                }
            }
            M[k] = newM;
            c[k] = r[k] = zero;
        }
        for (intptr_t i = i0; i < i0 + rt; i++) {
            const OOC_T *p = col + i * sn;
            for (int k = 0; k < nv; k++) {
                OOC_V v = OOC_NAME(ooc_load)(p + k * OOC_W);
                OOC_IV eq = v == M[k];
                OOC_V e = OOC_EXP(v - M[k]);
                c[k] += (OOC_V)(eq & one);
                r[k] += (OOC_V)(~eq & (OOC_IV)e);
            }
        }
        for (int k = 0; k < nv; k++) {
            for (int l = 0; l < OOC_W; l++) {
                Cd[k * OOC_W + l] += c[k][l];
                Rd[k * OOC_W + l] += r[k][l];
            }
        }
    }
    for (int k = 0; k < nv; k++) {
        for (int l = 0; l < OOC_W; l++) {
            om[k * OOC_W + l] = bad[k][l] ? NAN : M[k][l];
            oc[k * OOC_W + l] = Cd[k * OOC_W + l];
            orr[k * OOC_W + l] = Rd[k * OOC_W + l];
        }
    }
}

/* Reduce over the middle axis of x[outer][n][inner] (strides so, sn; inner contiguous). */
static void OOC_NAME(ooc_lse_cols)(const OOC_T *x, intptr_t outer, intptr_t n,
                                              intptr_t inner, intptr_t so, intptr_t sn,
                                              double *om, double *oc, double *orr)
{
    for (intptr_t o = 0; o < outer; o++) {
        const OOC_T *base = x + o * so;
        double *m = om + o * inner, *c = oc + o * inner, *r = orr + o * inner;
        intptr_t j = 0;
        while (j + OOC_W <= inner) {
            intptr_t left = (inner - j) / OOC_W;
            int nv = left < OOC_NV ? (int)left : OOC_NV;
            OOC_NAME(ooc_lse_strip)(base + j, n, sn, nv, m + j, c + j, r + j);
            j += (intptr_t)nv * OOC_W;
        }
        for (; j < inner; j++) {   /* fewer columns than one vector: two scalar passes */
            const OOC_T *p = base + j;
            double M = -INFINITY, cnt = 0, rest = 0;
            int nan = 0;
            for (intptr_t i = 0; i < n; i++) {
                OOC_T v = p[i * sn];
                if (v > M)
                    M = v;
                nan |= v != v;
            }
            for (intptr_t i = 0; i < n; i++) {
                OOC_T v = p[i * sn];
                if (v == (OOC_T)M) {
                    cnt += 1;
                } else {
                    OOC_T d = v - (OOC_T)M;
                    if (d > -746)
                        rest += exp((double)d);
                }
            }
            m[j] = nan ? NAN : M;
            c[j] = cnt;
            r[j] = rest;
        }
    }
}

#undef OOC_TILE
#undef OOC_RT
#undef OOC_NV
#undef OOC_FLUSH
