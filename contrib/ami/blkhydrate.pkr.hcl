# SPDX-License-Identifier: GPL-2.0-or-later
# Packer (HCL2) provisioners for an AMI that carries a model: after the model
# is in place, install blkhydrate, write /etc/blkhydrate.conf listing the
# model paths, and fail the build unless 'blkhydrate plan' maps every one of
# them onto the volume (verify-model-volume.sh); then reboot once, recording
# what the boot reads until the model server is up (record-boot.sh,
# blkhydrate-record.service), so that instances read that first. Merge the build block into
# your template; "source.amazon-ebs.model" is your own source block, and the
# .deb comes from contrib/build-deb.sh.

variable "blkhydrate_deb" {
  type    = string
  default = "blkhydrate_0.1.0_amd64.deb"
}

variable "model_paths" {
  type        = list(string)
  description = "files, directories or globs to read first on a restored volume"
  default     = ["/opt/models"]
}

variable "record_until" {
  type        = string
  description = "the unit whose start ends the recording of the verification boot"
  default     = "model-server.service"
}

build {
  sources = ["source.amazon-ebs.model"]

  # ... the provisioners that put the model under /opt/models go here ...

  provisioner "file" {
    source      = var.blkhydrate_deb
    destination = "/tmp/blkhydrate.deb"
  }

  provisioner "file" {
    source      = "contrib/ami/verify-model-volume.sh"
    destination = "/tmp/verify-model-volume.sh"
  }

  provisioner "file" {
    source      = "contrib/ami/record-boot.sh"
    destination = "/tmp/record-boot.sh"
  }

  provisioner "file" {
    source      = "contrib/ami/blkhydrate-record.service"
    destination = "/tmp/blkhydrate-record.service"
  }

  # Fails the build (non-zero status) when a model path is missing or
  # cannot be mapped; reads nothing but file system metadata.
  provisioner "shell" {
    inline = [
      "sudo bash /tmp/verify-model-volume.sh --install /tmp/blkhydrate.deb --mode used ${join(" ", formatlist("'%s'", var.model_paths))}",
    ]
  }

  # The verification boot: record what it reads until the workload's unit
  # is active (blkhydrate record --save); instances made from the image read
  # those blocks first, before the model paths. The build fails (status 2)
  # when nothing was recorded.
  provisioner "shell" {
    inline = [
      "sudo bash /tmp/record-boot.sh arm --until ${var.record_until}",
      "sudo systemctl reboot",
    ]
    expect_disconnect = true
  }

  provisioner "shell" {
    pause_before = "30s"
    inline = [
      "sudo bash /tmp/record-boot.sh check",
    ]
  }
}
