"""New weights for vLLM's GPU workers. vLLM mixes this class into its
worker class when the engine is built with
LLM(worker_extension_cls="vllm_weights.WeightLoader"), in the worker's own
process, so LLM.collective_rpc("relix_load_weights", args=(path,)) reaches
it there. Only a path crosses the process boundary (collective_rpc is for
control messages); the weights travel as a safetensors file.

It imports nothing from vLLM: the worker gives it model_runner.
"""


class WeightLoader:
    def relix_load_weights(self, path):
        """Loads the weights of a safetensors file (Hugging Face names, as
        the model's own checkpoint files have them) into this worker's
        model; returns how many tensors it read."""
        import tensors

        weights, _ = tensors.load(path)
        # load_weights maps the checkpoint's names onto vLLM's fused layers
        # (q, k and v into one projection, and so on), as at start-up.
        self.model_runner.model.load_weights(weights=list(weights.items()))
        return len(weights)
