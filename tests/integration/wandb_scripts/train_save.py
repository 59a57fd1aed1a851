"""Files a W&B script keeps: ``wandb.save`` (now and at the end), an artifact of files, and a file
written into ``wandb.run.dir`` (which W&B uploads by itself)."""

import json
import os

import wandb


def main() -> None:
    run = wandb.init(config={"width": 4})
    with open("model.json", "w") as f:
        json.dump({"width": run.config.width}, f)
    wandb.save("model.json")
    wandb.save("checkpoints/*.ckpt", policy="end")  # nothing matches yet
    os.makedirs("checkpoints", exist_ok=True)
    for epoch in range(2):
        with open(f"checkpoints/epoch{epoch}.ckpt", "w") as f:
            f.write(str(epoch))
        wandb.log({"val_loss": 1.0 / (epoch + 1)})

    artifact = wandb.Artifact("predictions", type="dataset", metadata={"rows": 2})
    with open("preds.csv", "w") as f:
        f.write("y\n1\n2\n")
    artifact.add_file("preds.csv")
    with artifact.new_file("notes.txt") as f:
        f.write("made by new_file")
    run.log_artifact(artifact)

    with open(os.path.join(run.dir, "in_run_dir.txt"), "w") as f:
        f.write("W&B uploads run.dir; hypersweep collects $HYPERSWEEP_ARTIFACT_DIR")
    print("run.dir:", run.dir, flush=True)


if __name__ == "__main__":
    main()
