# -*- encoding: utf-8 -*-
# stub: railties 7.1.0.rc1 ruby lib

Gem::Specification.new do |s|
  s.name = "railties".freeze
  s.version = "7.1.0.rc1"

  s.required_rubygems_version = Gem::Requirement.new("> 1.3.1".freeze) if s.respond_to? :required_rubygems_version=
  s.require_paths = ["lib".freeze]
  s.licenses = ["MIT".freeze, "Ruby".freeze]
  s.rubygems_version = "3.4.10".freeze
  s.summary = "Tools for creating, working with, and running Rails applications.".freeze
end
