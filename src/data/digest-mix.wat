;; The digest's row mixing (src/data/digest.ts), 4 lanes in one v128. Words are int32, row-major,
;; nw per row, m rows, from byte `ptr`. Per row: h = lane seeds; per word w: x = (h ^ w) * M,
;; h = x ^ (x >>> 15); then fmix32(h) is added, lane-wise mod 2^32, to the v128 at byte `out`.
(module
  (memory (export "mem") 2)
  (func (export "mix") (param $ptr i32) (param $m i32) (param $nw i32) (param $out i32)
    (local $p i32) (local $e i32) (local $end i32) (local $h v128) (local $acc v128) (local $x v128)
    (local.set $acc (v128.load (local.get $out)))
    (local.set $p (local.get $ptr))
    (local.set $end (i32.add (local.get $ptr) (i32.shl (i32.mul (local.get $m) (local.get $nw)) (i32.const 2))))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $h (v128.const i32x4 0x243f6a88 0x85a308d3 0x13198a2e 0x03707344))
        (local.set $e (i32.add (local.get $p) (i32.shl (local.get $nw) (i32.const 2))))
        (loop $word
          (local.set $x (i32x4.mul (v128.xor (local.get $h) (v128.load32_splat (local.get $p)))
                                   (v128.const i32x4 0x9e3779b1 0x85ebca77 0xc2b2ae3d 0x27d4eb2f)))
          (local.set $h (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 15))))
          (local.set $p (i32.add (local.get $p) (i32.const 4)))
          (br_if $word (i32.lt_u (local.get $p) (local.get $e))))
        (local.set $h (v128.xor (local.get $h) (i32x4.shr_u (local.get $h) (i32.const 16))))
        (local.set $h (i32x4.mul (local.get $h) (v128.const i32x4 0x85ebca6b 0x85ebca6b 0x85ebca6b 0x85ebca6b)))
        (local.set $h (v128.xor (local.get $h) (i32x4.shr_u (local.get $h) (i32.const 13))))
        (local.set $h (i32x4.mul (local.get $h) (v128.const i32x4 0xc2b2ae35 0xc2b2ae35 0xc2b2ae35 0xc2b2ae35)))
        (local.set $h (v128.xor (local.get $h) (i32x4.shr_u (local.get $h) (i32.const 16))))
        (local.set $acc (i32x4.add (local.get $acc) (local.get $h)))
        (br $row)))
    (v128.store (local.get $out) (local.get $acc))))
