"""Write a tiny random-weight llama-architecture GGUF with the PyPI ``gguf`` package.

About 0.5 MB, written in well under a second; llama-server loads and runs it, and its output is
noise: tests assert timing and structure, never text.
"""

import os

import numpy as np


def write_tiny_gguf(path, n_embd=64, n_head=4, n_layer=2, n_ff=128, seed=0):
    import gguf

    rng = np.random.default_rng(seed)
    # ASCII byte tokens only: every generated token is a whole character, so each one streams as
    # its own non-empty chunk (bytes >= 0x80 would be held back as partial UTF-8)
    tokens = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(128)]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL] + [gguf.TokenType.BYTE] * 128
    words = ["\u2581the", "\u2581a", "\u2581answer", "\u2581is", "\u2581date", "\u2581clause", "\u2581ticket",
             "\u2581billing", "\u2581bug", "\u2581", "e", "t", "a", "o", "n", "s", "."]
    tokens += words
    types += [gguf.TokenType.NORMAL] * len(words)
    scores = [0.0] * 131 + [-float(i) for i in range(len(words))]
    n_vocab = len(tokens)
    head_dim = n_embd // n_head

    writer = gguf.GGUFWriter(path, "llama")
    writer.add_name("gpufleet-tiny-random")
    writer.add_context_length(2048)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layer)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head)
    writer.add_rope_dimension_count(head_dim)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.add_add_bos_token(True)
    writer.add_chat_template("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
                             "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")

    def tensor(name, *shape):
        writer.add_tensor(name, (rng.standard_normal(shape) * 0.02).astype(np.float32))

    tensor("token_embd.weight", n_vocab, n_embd)
    writer.add_tensor("output_norm.weight", np.ones(n_embd, dtype=np.float32))
    tensor("output.weight", n_vocab, n_embd)
    for i in range(n_layer):
        writer.add_tensor("blk.%d.attn_norm.weight" % i, np.ones(n_embd, dtype=np.float32))
        tensor("blk.%d.attn_q.weight" % i, n_embd, n_embd)
        tensor("blk.%d.attn_k.weight" % i, n_embd, n_embd)
        tensor("blk.%d.attn_v.weight" % i, n_embd, n_embd)
        tensor("blk.%d.attn_output.weight" % i, n_embd, n_embd)
        writer.add_tensor("blk.%d.ffn_norm.weight" % i, np.ones(n_embd, dtype=np.float32))
        tensor("blk.%d.ffn_gate.weight" % i, n_ff, n_embd)
        tensor("blk.%d.ffn_up.weight" % i, n_ff, n_embd)
        tensor("blk.%d.ffn_down.weight" % i, n_embd, n_ff)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return os.path.getsize(path)
