;; The dense layer of DenseLayers (denseLayers.ts) in WebAssembly with 128-bit SIMD: the same
;; floats as its JavaScript loop (addRowsTimes + ReLU), two to three times as fast.
;; `npm run build:wasm` compiles it into denseKernelWasm.ts.
(module
  ;; one memory per DenseLayers, grown by its owner to hold kernels, biases and activations
  (memory (export "memory") 1)
  ;; y = x W + b for a kernel W [nIn, nOut] (row-major, f64; every pointer a byte offset), then
  ;; ReLU when relu != 0. x's nonzero entries are listed first (row offsets at nzAt, values at
  ;; nzX); then eight outputs at a time sit in four f64x2 registers while the nonzero rows are
  ;; added in order: each y_o = b_o + x_0 W_0o + x_1 W_1o + ..., a multiply then an add per term
  ;; in both lanes, as the scalar loop does, so the results are the same bits.
  (func $dense (param $x i32) (param $W i32) (param $b i32) (param $nIn i32) (param $nOut i32)
        (param $y i32) (param $relu i32) (param $nzAt i32) (param $nzX i32)
    (local $i i32) (local $nz i32) (local $xi f64) (local $o i32) (local $n i32) (local $r i32)
    (local $s v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $a f64)
    (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $nOut) (i32.const 3)))
    (block $done (loop $scan
      (br_if $done (i32.ge_u (local.get $i) (local.get $nIn)))
      (local.set $xi (f64.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 3)))))
      (if (f64.ne (local.get $xi) (f64.const 0))
        (then
          (i32.store (i32.add (local.get $nzAt) (i32.shl (local.get $nz) (i32.const 2)))
                     (i32.add (local.get $W) (i32.mul (local.get $i) (local.get $rowBytes))))
          (f64.store (i32.add (local.get $nzX) (i32.shl (local.get $nz) (i32.const 3))) (local.get $xi))
          (local.set $nz (i32.add (local.get $nz) (i32.const 1)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $scan)))
    (block $blocksDone (loop $blocks
      (br_if $blocksDone (i32.gt_u (i32.add (local.get $o) (i32.const 8)) (local.get $nOut)))
      (local.set $r (i32.add (local.get $b) (i32.shl (local.get $o) (i32.const 3))))
      (local.set $a0 (v128.load (local.get $r)))
      (local.set $a1 (v128.load offset=16 (local.get $r)))
      (local.set $a2 (v128.load offset=32 (local.get $r)))
      (local.set $a3 (v128.load offset=48 (local.get $r)))
      (local.set $n (i32.const 0))
      (block $sumDone (loop $sum
        (br_if $sumDone (i32.ge_u (local.get $n) (local.get $nz)))
        (local.set $s (f64x2.splat (f64.load (i32.add (local.get $nzX) (i32.shl (local.get $n) (i32.const 3))))))
        (local.set $r (i32.add (i32.load (i32.add (local.get $nzAt) (i32.shl (local.get $n) (i32.const 2))))
                               (i32.shl (local.get $o) (i32.const 3))))
        (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $s) (v128.load (local.get $r)))))
        (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (local.get $s) (v128.load offset=16 (local.get $r)))))
        (local.set $a2 (f64x2.add (local.get $a2) (f64x2.mul (local.get $s) (v128.load offset=32 (local.get $r)))))
        (local.set $a3 (f64x2.add (local.get $a3) (f64x2.mul (local.get $s) (v128.load offset=48 (local.get $r)))))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $sum)))
      (if (local.get $relu)
        (then
          ;; y < 0 -> 0, keeping -0 and NaN as the scalar comparison does
          (local.set $a0 (v128.bitselect (v128.const i64x2 0 0) (local.get $a0) (f64x2.lt (local.get $a0) (v128.const i64x2 0 0))))
          (local.set $a1 (v128.bitselect (v128.const i64x2 0 0) (local.get $a1) (f64x2.lt (local.get $a1) (v128.const i64x2 0 0))))
          (local.set $a2 (v128.bitselect (v128.const i64x2 0 0) (local.get $a2) (f64x2.lt (local.get $a2) (v128.const i64x2 0 0))))
          (local.set $a3 (v128.bitselect (v128.const i64x2 0 0) (local.get $a3) (f64x2.lt (local.get $a3) (v128.const i64x2 0 0))))))
      (local.set $r (i32.add (local.get $y) (i32.shl (local.get $o) (i32.const 3))))
      (v128.store (local.get $r) (local.get $a0))
      (v128.store offset=16 (local.get $r) (local.get $a1))
      (v128.store offset=32 (local.get $r) (local.get $a2))
      (v128.store offset=48 (local.get $r) (local.get $a3))
      (local.set $o (i32.add (local.get $o) (i32.const 8)))
      (br $blocks)))
    (block $restDone (loop $rest
      (br_if $restDone (i32.ge_u (local.get $o) (local.get $nOut)))
      (local.set $a (f64.load (i32.add (local.get $b) (i32.shl (local.get $o) (i32.const 3)))))
      (local.set $n (i32.const 0))
      (block $sumDone (loop $sum
        (br_if $sumDone (i32.ge_u (local.get $n) (local.get $nz)))
        (local.set $a (f64.add (local.get $a)
          (f64.mul (f64.load (i32.add (local.get $nzX) (i32.shl (local.get $n) (i32.const 3))))
                   (f64.load (i32.add (i32.load (i32.add (local.get $nzAt) (i32.shl (local.get $n) (i32.const 2))))
                                      (i32.shl (local.get $o) (i32.const 3)))))))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $sum)))
      (if (i32.and (local.get $relu) (f64.lt (local.get $a) (f64.const 0))) (then (local.set $a (f64.const 0))))
      (f64.store (i32.add (local.get $y) (i32.shl (local.get $o) (i32.const 3))) (local.get $a))
      (local.set $o (i32.add (local.get $o) (i32.const 1)))
      (br $rest))))

  ;; The whole stack in one call from JavaScript: L layers described at $table by seven i32 each
  ;; (x, W, b, nIn, nOut, y, relu), run in order.
  (func (export "forward") (param $table i32) (param $L i32) (param $nzAt i32) (param $nzX i32)
    (local $l i32) (local $p i32)
    (block $done (loop $layers
      (br_if $done (i32.ge_u (local.get $l) (local.get $L)))
      (local.set $p (i32.add (local.get $table) (i32.mul (local.get $l) (i32.const 28))))
      (call $dense (i32.load (local.get $p)) (i32.load offset=4 (local.get $p)) (i32.load offset=8 (local.get $p))
                   (i32.load offset=12 (local.get $p)) (i32.load offset=16 (local.get $p)) (i32.load offset=20 (local.get $p))
                   (i32.load offset=24 (local.get $p)) (local.get $nzAt) (local.get $nzX))
      (local.set $l (i32.add (local.get $l) (i32.const 1)))
      (br $layers)))
  )
)
