"""``gemm``: a call of CBLAS ``?gemm`` through a function address known only at run time.

The address comes in as an argument (``blas_symbols.py`` finds NumPy's OpenBLAS and its symbols), so
the compiled code holds no ctypes object and no address of this process: it can be cached on
disk and loaded by another process, where the library sits elsewhere. The integer width of the
library (32- or 64-bit, how it was built) is an argument too, and the real type (float or double)
is the dtype of ``like``, an array of the product's dtype.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112


@intrinsic
def gemm(typingctx, blas, order, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, like):
    """``C = alpha op(A) op(B) + beta C`` by ``cblas_?gemm``: ``blas`` is ``(address, wide)`` with
    ``wide`` true for a 64-bit-integer library; ``a``, ``b``, ``c`` are data addresses
    (``arr.ctypes.data`` plus an offset); ``like`` an array of the product's dtype."""
    ints = (order, trans_a, trans_b, m, n, k, lda, ldb, ldc, a, b, c)
    if not (isinstance(blas, types.BaseTuple) and len(blas) == 2 and isinstance(like, types.Array)
            and like.dtype in (types.float32, types.float64)
            and all(isinstance(t, types.Integer) for t in ints)):
        return None
    sig = types.void(blas, order, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, like)

    def codegen(context, builder, signature, args):
        fnptr, wide = (builder.extract_value(args[0], i) for i in range(2))
        wide = context.cast(builder, wide, signature.args[0][1], types.boolean)
        real = like.dtype
        # order, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc (alpha and beta
        # in the product's dtype, the rest as intp)
        vals = [context.cast(builder, v, t, real if i in (7, 12) else types.intp)
                for i, (v, t) in enumerate(zip(args[:15], signature.args[:15])) if i > 0]
        addr = context.cast(builder, fnptr, signature.args[0][0], types.intp)
        voidp = cgutils.voidptr_t
        enum, lreal = ir.IntType(32), context.get_value_type(real)

        def call(width: int) -> None:
            it = ir.IntType(width)
            fnty = ir.FunctionType(ir.VoidType(), [enum, enum, enum, it, it, it, lreal, voidp, it, voidp, it,
                                                   lreal, voidp, it])
            o, ta, tb, mm, nn, kk, al, pa, la, pb, lb, be, pc, lc = vals

            def to_int(v):
                return builder.trunc(v, it) if width < 64 else v

            fn = builder.inttoptr(addr, fnty.as_pointer())
            builder.call(fn, [builder.trunc(o, enum), builder.trunc(ta, enum), builder.trunc(tb, enum),
                              to_int(mm), to_int(nn), to_int(kk), al, builder.inttoptr(pa, voidp), to_int(la),
                              builder.inttoptr(pb, voidp), to_int(lb), be, builder.inttoptr(pc, voidp),
                              to_int(lc)])

        with builder.if_else(wide) as (is_wide, is_narrow):
            with is_wide:
                call(64)
            with is_narrow:
                call(32)
        return context.get_dummy_value()

    return sig, codegen
