# The first lines of current tutorials: choosing a device.
import torch

device = (
    "cuda"
    if torch.cuda.is_available()
    else "mps"
    if torch.backends.mps.is_available()
    else "cpu"
)
print(f"Using {device} device")
device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
print(f"Using {device} device")
print(torch.backends.mps.is_built(), torch.backends.cuda.is_built(), torch.backends.cudnn.is_available())
torch.set_default_device("cpu")
print(torch.get_default_device())
x = torch.ones(2, 3, device=device)
print(x.device, x.is_cuda, x.cpu().device, x.to(device) is x)
print(torch.cuda.device_count())
for name in ("cuda", "cuda:0", "cpu"):
    try:
        torch.zeros(1, device=name)
        print(name, "ok")
    except (RuntimeError, AssertionError) as e:
        print(name, "refused:", isinstance(e, AssertionError))
try:
    torch.ones(2).cuda()
except (RuntimeError, AssertionError) as e:
    print("cuda() refused:", isinstance(e, AssertionError))
